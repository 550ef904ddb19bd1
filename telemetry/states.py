"""What a customer's server reports says about it: the reporting state and the mismatch rule, defined once.

- **Reporting state**: *live* when the latest report is at most ``ZWADMIN_SILENT_AFTER_HOURS`` old (the
  boundary itself included), *silent* when older, *never reported* without one.
- **Mismatch**: the latest report's MAC or licence expiry differs from the registry's. Compared only when
  both sides are known: a customer with no licensed MAC, or a server that sends none, has nothing to compare.

Each rule is written twice, as a Python function for one row and as a ``Customer`` condition for SQL, side
by side here, so the changelist's column, its filters, the dashboard's counts and the customer page agree.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zwadmin.tones import Tone

REPORTED_RECENTLY = datetime.timedelta(hours=24)


class ReportingState(models.TextChoices):
    """Whether a customer's server is reporting: by the age of its latest report."""

    LIVE = "live", _("live")
    SILENT = "silent", _("silent")
    NEVER = "never", _("never reported")

    @property
    def tone(self) -> Tone:
        return REPORTING_TONES[self]


REPORTING_TONES = {
    ReportingState.LIVE: Tone.OK,
    ReportingState.SILENT: Tone.WARNING,
    ReportingState.NEVER: Tone.NEUTRAL,
}

# The reporting filter's extra choice: the dashboard's "reported in the last 24 hours".
REPORTED_LAST_DAY = "day"


def silent_after() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.TELEMETRY_SILENT_AFTER_HOURS)


def reporting_state(last_report: datetime.datetime | None, now: datetime.datetime | None = None) -> ReportingState:
    """The state of one customer whose latest report arrived at ``last_report`` (``None``: never)."""
    if last_report is None:
        return ReportingState.NEVER
    now = now or timezone.now()
    return ReportingState.LIVE if last_report >= now - silent_after() else ReportingState.SILENT


def reporting_condition(
    state: str, now: datetime.datetime | None = None, *, after: datetime.timedelta | None = None
) -> Q | None:
    """A ``Customer`` filter for a reporting state (or ``REPORTED_LAST_DAY``); ``None`` for an unknown one.

    ``after`` moves the silent boundary for a caller that allows longer or shorter (the alerts' silent rule);
    by default it is ``silent_after()``, the console's.
    """
    now = now or timezone.now()
    after = silent_after() if after is None else after
    if state == ReportingState.LIVE:
        return Q(server_status__reported_at__gte=now - after)
    if state == ReportingState.SILENT:
        return Q(server_status__reported_at__lt=now - after)
    if state == ReportingState.NEVER:
        return Q(server_status__isnull=True)
    if state == REPORTED_LAST_DAY:
        return Q(server_status__reported_at__gte=now - REPORTED_RECENTLY)
    return None


class Mismatch(models.TextChoices):
    """What the latest report contradicts in the registry."""

    ANY = "any", _("MAC or licence expiry")
    MAC = "mac", _("MAC")
    TIMEOUT = "timeout", _("licence expiry")


MISMATCH_TONE = Tone.DANGER


def differs(registered, reported) -> bool:
    """Whether a reported value contradicts the registry's: both known, and not equal."""
    return bool(registered and reported and registered != reported)


# ``differs`` in SQL, for Customer rows and their latest status ("> ''" is "neither NULL nor empty").
MAC_MISMATCH = Q(mac__gt="", server_status__mac__gt="") & ~Q(server_status__mac=F("mac"))
TIMEOUT_MISMATCH = Q(timeout__isnull=False, server_status__timeout__isnull=False) & ~Q(
    server_status__timeout=F("timeout")
)
MISMATCH_CONDITIONS = {
    Mismatch.ANY: MAC_MISMATCH | TIMEOUT_MISMATCH,
    Mismatch.MAC: MAC_MISMATCH,
    Mismatch.TIMEOUT: TIMEOUT_MISMATCH,
}
