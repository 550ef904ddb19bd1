"""The status header of a customer's page: what an operator must see first, before any field.

The licence state (``customers.licence``), the reporting state with the last report (``telemetry.states``),
each mismatch as registry vs reported value, and the ingest key's state: each item with its tone
(``zwadmin.tones``), worded for the operator; instructions only for staff who may act on them.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.licence import LicenceState
from customers.models import Customer
from telemetry.models import ServerStatus
from telemetry.states import ReportingState, reporting_state
from zwadmin.display import display_value, relative_time
from zwadmin.tones import Tone


@dataclass(frozen=True)
class StatusItem:
    key: str  # for the page's tests and styles: licence, reporting, mismatch-mac, mismatch-timeout, ingest-key
    label: str
    value: str
    tone: Tone
    details: list[str] = field(default_factory=list)


def _days(count: int) -> str:
    return ngettext("%(count)s day", "%(count)s days", count) % {"count": display_value(count)}


def licence_item(customer: Customer, today) -> StatusItem:
    state = customer.licence_state(today)
    label = _("Licence")
    if state == LicenceState.UNKNOWN:
        return StatusItem("licence", label, str(state.label), state.tone, [_("The registry has no expiry date.")])
    days = (customer.timeout - today).days
    if state == LicenceState.EXPIRED:
        detail = _("expired on %(day)s, %(days)s ago") % {"day": display_value(customer.timeout), "days": _days(-days)}
    elif days == 0:
        detail = _("expires today, %(day)s") % {"day": display_value(customer.timeout)}
    else:
        detail = _("expires on %(day)s, in %(days)s") % {"day": display_value(customer.timeout), "days": _days(days)}
    return StatusItem("licence", label, str(state.label), state.tone, [detail])


def reporting_item(status: ServerStatus | None, now) -> StatusItem:
    state = reporting_state(status.reported_at if status else None, now)
    label = _("Reporting")
    if status is None:
        return StatusItem("reporting", label, str(state.label), state.tone, [_("Its server has not reported yet.")])
    details = [
        _("last report %(when)s (%(ago)s)")
        % {"when": display_value(status.reported_at), "ago": relative_time(status.reported_at, now)},
        ngettext("%(count)s user reported", "%(count)s users reported", status.count)
        % {"count": display_value(status.count)},
    ]
    if state == ReportingState.SILENT:
        details.append(_("IM clients may be unable to reach their server."))
    return StatusItem("reporting", label, str(state.label), state.tone, details)


def mismatch_items(customer: Customer, status: ServerStatus | None) -> list[StatusItem]:
    if status is None:
        return []
    status.customer = customer  # compare with the registry row on this page
    items = []
    compared = [
        ("mismatch-mac", _("Licensed MAC"), status.mac_mismatch, customer.mac, status.mac),
        (
            "mismatch-timeout",
            _("Licence expiry"),
            status.timeout_mismatch,
            display_value(customer.timeout),
            display_value(status.timeout),
        ),
    ]
    for key, label, differs, registered, reported in compared:
        if differs:
            detail = _("registry: %(registered)s; reported: %(reported)s") % {
                "registered": registered,
                "reported": reported,
            }
            items.append(StatusItem(key, label, _("differs from the registry"), Tone.DANGER, [detail]))
    if not items:
        items.append(
            StatusItem(
                "mismatch", _("Registry"), _("the report matches the registry"), Tone.OK, [_("MAC and licence expiry")]
            )
        )
    return items


def ingest_key_item(customer: Customer, user: AbstractBaseUser) -> StatusItem:
    label = _("Ingest key")
    may_change = user.has_perm("customers.change_customer")
    if not customer.ingest_key_hash:
        details = [_("Reports are accepted without a key.")]
        if may_change:
            details.append(_("To require one: customer list, action “Generate a new ingest key”."))
        return StatusItem("ingest-key", label, _("none"), Tone.NEUTRAL, details)
    generated = display_value(customer.ingest_key_rotated_at)
    if customer.ingest_key_required:
        details = [_("generated %(when)s; reports without it are refused") % {"when": generated}]
        return StatusItem("ingest-key", label, _("required"), Tone.OK, details)
    details = [_("generated %(when)s; not required yet") % {"when": generated}]
    return StatusItem("ingest-key", label, _("generated, not required"), Tone.WARNING, details)


def customer_status(*, customer: Customer, user: AbstractBaseUser, now=None) -> list[StatusItem]:
    """The header's items, in reading order; one query (the latest status)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    status = ServerStatus.objects.filter(customer=customer).first()
    return [
        licence_item(customer, today),
        reporting_item(status, now),
        *mismatch_items(customer, status),
        ingest_key_item(customer, user),
    ]
