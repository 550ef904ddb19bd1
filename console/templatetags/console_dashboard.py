"""``{% fleet_dashboard %}``: the console's front page: a search, the fleet's figures, the 需要处理 table, the
reports per day.

An inclusion tag rather than a custom AdminSite: the index template asks for it, and nothing else
about the admin changes. Shown to staff who may view customers; every figure that counts
customers links to the customer changelist filtered to exactly those customers, and every row of the
需要处理 table to its customer.
"""

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from customers.licence import LicenceState
from telemetry.states import REPORTED_LAST_DAY, Mismatch, ReportingState
from zwadmin.charts import Labels, daily_chart
from zwadmin.display import display_value, relative_time
from zwadmin.tones import Tone

from .. import dashboard
from ..dashboard import Problem, Trouble

register = template.Library()


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    url: str = ""
    tone: Tone = Tone.NEUTRAL  # the console's status colours
    hint: str = ""
    parts: tuple["Figure", ...] = ()  # the figure broken down, each part with its own link


def _tone(value: int, tone: Tone) -> Tone:
    """A problem figure is coloured only when there is a problem to see."""
    return tone if value else Tone.NEUTRAL


@register.simple_tag
def tone_colours() -> str:
    """The tones as CSS custom properties (``--zw-ok: #2e7d32; …``), from ``zwadmin.tones``, their one home."""
    return "; ".join(f"--zw-{tone}: {tone.colour}" for tone in Tone)


@register.inclusion_tag("console/fleet_dashboard.html", takes_context=True)
def fleet_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("customers.view_customer"):
        return {"show": False}
    figures = dashboard.fleet_figures()
    changelist = reverse("admin:customers_customer_changelist")

    def customers(**params) -> str:
        return f"{changelist}?{urlencode(params)}" if params else changelist

    silent_hint = ngettext(
        "no report for more than %(hours)d hour", "no report for more than %(hours)d hours", figures.silent_after_hours
    ) % {"hours": figures.silent_after_hours}
    groups = [
        (
            _("Customers"),
            [
                Figure(_("customers in the registry"), figures.customers, customers()),
                Figure(
                    _("reported in the last 24 hours"),
                    figures.reported_last_day,
                    customers(reporting=REPORTED_LAST_DAY),
                    Tone.OK,
                ),
                Figure(
                    _("silent"),
                    figures.silent,
                    customers(reporting=ReportingState.SILENT),
                    _tone(figures.silent, Tone.WARNING),
                    silent_hint,
                ),
                Figure(
                    _("never reported"),
                    figures.never_reported,
                    customers(reporting=ReportingState.NEVER),
                    _tone(figures.never_reported, Tone.WARNING),
                ),
            ],
        ),
        (
            _("Licences and registry"),
            [
                Figure(
                    _("licences expired"),
                    figures.licence_expired,
                    customers(licence=LicenceState.EXPIRED),
                    _tone(figures.licence_expired, Tone.DANGER),
                ),
                Figure(
                    _("licences expiring within 30 days"),
                    figures.licence_expiring,
                    customers(licence=LicenceState.EXPIRING),
                    _tone(figures.licence_expiring, Tone.WARNING),
                ),
                Figure(
                    _("reported MAC or licence expiry differs from the registry"),
                    figures.mismatch,
                    customers(mismatch=Mismatch.ANY),
                    _tone(figures.mismatch, Tone.DANGER),
                    parts=(
                        Figure(_("MAC"), figures.mac_mismatch, customers(mismatch=Mismatch.MAC)),
                        Figure(
                            _("licence expiry"),
                            figures.timeout_mismatch,
                            customers(mismatch=Mismatch.TIMEOUT),
                        ),
                    ),
                ),
                Figure(
                    _("unregistered servers reporting"),
                    figures.unregistered_servers,
                    (
                        f"{reverse('admin:telemetry_unregisteredserver_changelist')}?registered=no"
                        if request.user.has_perm("telemetry.view_unregisteredserver")
                        else ""
                    ),
                    _tone(figures.unregistered_servers, Tone.DANGER),
                ),
            ],
        ),
        (
            _("Usage"),
            [
                Figure(_("users, as last reported"), figures.total_users),
                Figure(_("messages sent"), figures.total_messages),
            ],
        ),
    ]
    days = figures.reports_per_day
    trouble = dashboard.trouble(limit=dashboard.TROUBLE_ROWS)
    chart = daily_chart(
        kind="bar",
        values=[(point.day, point.value) for point in days if point.value],
        first_day=days[0].day,
        last_day=days[-1].day,
        labels=Labels(
            title=_("Reports per day across the fleet"),
            x_axis=_("date"),
            y_axis=_("reports"),
            tooltip=_("%(day)s: %(value)s reports"),
            empty=_("No reports in the last %(days)d days") % {"days": len(days)},
            summary=_("latest day (%(day)s): %(latest)s · highest: %(highest)s"),
        ),
        chart_id="fleet-reports-per-day",
        width=880,
        partial_day=days[-1].day,
    )
    shown_customers = sum(1 for row in trouble if row.customer is not None)
    return {
        "show": True,
        "groups": groups,
        "chart": chart,
        "generated_at": timezone.localtime(),
        "search_url": changelist,
        "trouble": {
            "headers": [_("problem"), _("customer"), _("details"), _("last report")],
            "rows": [trouble_row(row, request, silent_hint) for row in trouble],
        },
        "trouble_count": figures.in_trouble + figures.unregistered_servers,
        "trouble_url": customers(attention="yes"),
        "trouble_unlisted": figures.in_trouble - shown_customers,
    }


PROBLEMS = {
    Problem.EXPIRED: (_("licence expired"), Tone.DANGER),
    Problem.MISMATCH: (_("differs from the registry"), Tone.DANGER),
    Problem.UNREGISTERED: (_("unregistered server"), Tone.DANGER),
    Problem.SILENT: (_("silent"), Tone.WARNING),
    Problem.EXPIRING: (_("licence expiring within 30 days"), Tone.WARNING),
    Problem.NEVER_REPORTED: (_("never reported"), Tone.NEUTRAL),
}


def _details(row: Trouble, silent_hint: str) -> list[str]:
    """What the operator needs to act: the dates and values behind each problem."""
    customer, details = row.customer, []
    status = getattr(customer, "server_status", None) if customer else None
    for problem in row.problems:
        if problem in (Problem.EXPIRED, Problem.EXPIRING):
            details.append(_("licence expiry %(day)s") % {"day": display_value(customer.timeout)})
        elif problem == Problem.MISMATCH:
            if status.mac_mismatch:
                details.append(
                    _("MAC: registry %(registered)s, reported %(reported)s")
                    % {"registered": customer.mac, "reported": status.mac}
                )
            if status.timeout_mismatch:
                details.append(
                    _("licence expiry: registry %(registered)s, reported %(reported)s")
                    % {"registered": display_value(customer.timeout), "reported": display_value(status.timeout)}
                )
        elif problem == Problem.UNREGISTERED:
            details.append(_("reports without being in the registry"))
        elif problem == Problem.SILENT:
            details.append(silent_hint)
        elif problem == Problem.NEVER_REPORTED:
            details.append(_("its server has not reported yet"))
    return details


def trouble_row(row: Trouble, request, silent_hint: str) -> list:
    badges = format_html_join(
        " ",
        '<span class="zw-badge zw-tone-{}">{}</span>',
        ((PROBLEMS[problem][1], PROBLEMS[problem][0]) for problem in row.problems),
    )
    if row.customer is not None:
        url = reverse("admin:customers_customer_change", args=[row.customer.pk])
    elif request.user.has_perm("customers.add_customer"):
        from telemetry.admin import customer_add_url  # not at import: the admin imports the theme, which loads tags

        url = customer_add_url(row.server)
    elif request.user.has_perm("telemetry.view_unregisteredserver"):
        url = f"{reverse('admin:telemetry_unregisteredserver_changelist')}?{urlencode({'q': row.code})}"
    else:
        url = ""
    who = format_html('<span class="zw-code">{}</span> {}', row.code, row.name)
    link = format_html('<a class="zw-trouble-link" href="{}">{}</a>', url, who) if url else who
    reported = (
        format_html('<span title="{}">{}</span>', display_value(row.reported_at), relative_time(row.reported_at))
        if row.reported_at
        else "—"
    )
    separator = str(pgettext("list separator", "; "))
    return [badges, link, separator.join(str(detail) for detail in _details(row, silent_hint)) or "—", reported]
