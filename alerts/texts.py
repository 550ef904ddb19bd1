"""The words of every message: Chinese (the operators' language, GLOSSARY.zh.md), whatever the sender's.

A message is a title, lines of text and a link; each channel lays them out in its own format
(``alerts.channels``). Texts are fixed when a message is queued, so a retry sends the same words.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Alert, Channel, MessageKind, Resolution, RuleKey

MESSAGE_LANGUAGE = "zh-hans"
DIGEST_LINES = 20  # a digest lists this many alerts, then says how many more (robots cap a message at 4 KB)


@dataclass(frozen=True)
class Text:
    title: str
    lines: list[str]
    link: str


def public_url(path: str) -> str:
    """``path`` on the console as operators reach it (``ZWADMIN_PUBLIC_URL``)."""
    return f"{settings.PUBLIC_URL}{path}"


def when(moment: datetime.datetime | None) -> str:
    return "—" if moment is None else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def ago(moment: datetime.datetime, now: datetime.datetime) -> str:
    """刚刚, 5 分钟前, 2 小时前, 3 天前 (GLOSSARY.zh.md)."""
    seconds = max((now - moment).total_seconds(), 0)
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        minutes = int(seconds // 60)
        return ngettext("%(count)d minute ago", "%(count)d minutes ago", minutes) % {"count": minutes}
    if seconds < 86400:
        hours = int(seconds // 3600)
        return ngettext("%(count)d hour ago", "%(count)d hours ago", hours) % {"count": hours}
    days = int(seconds // 86400)
    return ngettext("%(count)s day ago", "%(count)s days ago", days) % {"count": f"{days:,}"}


def lasted(start: datetime.datetime, end: datetime.datetime) -> str:
    """How long an alert lasted: 3 天 4 小时, 2 小时 5 分钟, 7 分钟."""
    minutes = max(int((end - start).total_seconds() // 60), 0)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours or days:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if not days:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    return " ".join(parts)


def _day(value) -> str:
    day = parse_date(value) if isinstance(value, str) else value
    return "—" if day is None else f"{day:%Y-%m-%d}"


def _moment(value) -> datetime.datetime | None:
    return parse_datetime(value) if isinstance(value, str) else value


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value or "—")


def headline(alert: Alert) -> str:
    """What holds, in a few words: the message's title."""
    key, details = alert.rule.key, alert.details
    if key in (RuleKey.LICENCE_FIRST, RuleKey.LICENCE_SECOND, RuleKey.LICENCE_LAST):
        return _("licence expires within %(days)d days") % {"days": details.get("days", 0)}
    return str(RuleKey(key).label)


def state(alert: Alert, now: datetime.datetime) -> str:
    """The state in one sentence, with the values that show it."""
    key, d = alert.rule.key, alert.details
    if key == RuleKey.SILENT:
        last = _moment(d.get("last_report"))
        return _("no report for more than %(hours)d hours; last report %(last)s (%(ago)s)") % {
            "hours": d.get("hours", 0),
            "last": when(last),
            "ago": ago(last, now) if last else "—",
        }
    if key == RuleKey.NEVER_REPORTED:
        return _("registered %(registered)s and never reported since") % {
            "registered": when(_moment(d.get("registered")))
        }
    if key == RuleKey.LICENCE_EXPIRED:
        return _("licence expired on %(date)s") % {"date": _day(d.get("timeout"))}
    if key in (RuleKey.LICENCE_FIRST, RuleKey.LICENCE_SECOND, RuleKey.LICENCE_LAST):
        return _("licence expires on %(date)s") % {"date": _day(d.get("timeout"))}
    if key == RuleKey.MAC_MISMATCH:
        return _("MAC differs from the registry (registered: %(registered)s, reported: %(reported)s)") % d
    if key == RuleKey.TIMEOUT_MISMATCH:
        return _("licence expiry differs from the registry (registered: %(registered)s, reported: %(reported)s)") % {
            "registered": _day(d.get("registered")),
            "reported": _day(d.get("reported")),
        }
    if key == RuleKey.UNREGISTERED:
        return _("not in the registry; reported MAC %(mac)s, IP %(ip)s, %(count)s users, last seen %(last)s") % {
            "mac": d.get("mac") or "—",
            "ip": d.get("ip") or "—",
            "count": _number(d.get("count")),
            "last": when(_moment(d.get("last_seen"))),
        }
    if key == RuleKey.USER_COUNT:
        before, after = d.get("before", 0), d.get("after", 0)
        change = round((after - before) * 100 / before) if before else 0
        return _("reported users went from %(before)s (%(before_at)s) to %(after)s (%(change)+d%%)") % {
            "before": _number(before),
            "before_at": when(_moment(d.get("before_at"))),
            "after": _number(after),
            "change": change,
        }
    return headline(alert)


def subject(alert: Alert) -> str:
    if alert.customer_id is None:
        return _("%(code)s (unregistered) %(name)s") % {"code": alert.code, "name": alert.name}
    return f"{alert.code} {alert.name}"


def alert_link(alert: Alert) -> str:
    if alert.customer_id is None:
        path = reverse("admin:telemetry_unregisteredserver_changelist") + "?" + urlencode({"q": alert.code})
    else:
        path = reverse("admin:customers_customer_change", args=[alert.customer_id])
    return public_url(path)


def alert_text(alert: Alert, kind: str, now: datetime.datetime, service_engineer: str = "") -> Text:
    """The message of an alert that opened (触发) or resolved (恢复)."""
    with translation.override(MESSAGE_LANGUAGE):
        tag = _("[Opened]") if kind == MessageKind.OPENED else _("[Resolved]")
        lines = [_("Customer: %(subject)s") % {"subject": subject(alert)}]
        if service_engineer:
            lines.append(_("Service engineer: %(name)s") % {"name": service_engineer})
        if kind == MessageKind.OPENED:
            lines.append(_("State: %(state)s") % {"state": state(alert, now)})
            lines.append(_("Since: %(when)s (%(ago)s)") % {"when": when(alert.since), "ago": ago(alert.since, now)})
        else:
            lines.append(_("Was: %(state)s") % {"state": state(alert, now)})
            lines.append(_("Since: %(when)s") % {"when": when(alert.since)})
            lines.append(
                _("Resolved: %(when)s, after %(lasted)s")
                % {"when": when(alert.resolved_at or now), "lasted": lasted(alert.since, alert.resolved_at or now)}
            )
            if alert.acknowledged_at:
                lines.append(
                    _("Acknowledged by %(who)s at %(when)s")
                    % {"who": _who(alert.acknowledged_by), "when": when(alert.acknowledged_at)}
                )
        return Text(
            title=f"{tag}{headline(alert)}：{subject(alert)}",
            lines=lines,
            link=alert_link(alert),
        )


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "—"


def digest_text(parts: list, *, quiet: bool) -> Text:
    """One message for many: the night's messages after quiet hours, or a burst a robot could not take."""
    with translation.override(MESSAGE_LANGUAGE):
        count = len(parts)
        if quiet:
            title = ngettext(
                "[Digest] %(count)d message held during quiet hours",
                "[Digest] %(count)d messages held during quiet hours",
                count,
            ) % {"count": count}
        else:
            title = ngettext("[Digest] %(count)d alert message", "[Digest] %(count)d alert messages", count) % {
                "count": count
            }
        lines = [f"{part.title}（{when(part.created_at)}）" for part in parts[:DIGEST_LINES]]
        if count > DIGEST_LINES:
            more = count - DIGEST_LINES
            lines.append(
                ngettext("… and %(count)d more: see the console", "… and %(count)d more: see the console", more)
                % {"count": more}
            )
        return Text(title=title, lines=lines, link=public_url(reverse("admin:alerts_alert_changelist")))


def test_text(channel: Channel, now: datetime.datetime) -> Text:
    with translation.override(MESSAGE_LANGUAGE):
        return Text(
            title=_("[Test] zwadmin alert channel"),
            lines=[
                _("This test message shows that the notification channel “%(name)s” works.") % {"name": channel.name},
                _("Sent: %(when)s") % {"when": when(now)},
            ],
            link=public_url(reverse("admin:alerts_alert_changelist")),
        )


RESOLUTION_SENDS_MESSAGE = {Resolution.ENDED}
