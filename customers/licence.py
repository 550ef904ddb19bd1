"""The licence state of a customer: the one definition, for a row in Python and for a queryset in SQL.

A customer's licence (``Customer.timeout``, the document's "lic过期时间") is expired before today, expiring
from today until ``EXPIRING_WITHIN_DAYS`` days from now (both included), valid after that, and unknown
without a date. ``licence_state`` and ``licence_condition`` share ``_boundaries``, so the changelist's
column, its filter, the dashboard's counts, the exports and the API can never disagree.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zwadmin.tones import Tone

EXPIRING_WITHIN_DAYS = 30


class LicenceState(models.TextChoices):
    OK = "ok", _("valid")
    EXPIRING = "expiring", _("expiring within 30 days")
    EXPIRED = "expired", _("expired")
    UNKNOWN = "unknown", _("no expiry date")

    @property
    def tone(self) -> Tone:
        return LICENCE_TONES[self]


LICENCE_TONES = {
    LicenceState.OK: Tone.OK,
    LicenceState.EXPIRING: Tone.WARNING,
    LicenceState.EXPIRED: Tone.DANGER,
    LicenceState.UNKNOWN: Tone.NEUTRAL,
}


def _boundaries(
    today: datetime.date | None, within_days: int = EXPIRING_WITHIN_DAYS
) -> tuple[datetime.date, datetime.date]:
    """Today, and the last day of the "expiring" window."""
    today = today or timezone.localdate()
    return today, today + datetime.timedelta(days=within_days)


def licence_state(
    timeout: datetime.date | None, today: datetime.date | None = None, *, within_days: int = EXPIRING_WITHIN_DAYS
) -> LicenceState:
    """The state of a licence that expires on ``timeout`` (``None``: no date).

    ``within_days`` narrows (or widens) the "expiring" window for a caller that warns earlier or later than the
    console's 30 days (the alerts' licence rules); everything else keeps the default.
    """
    if timeout is None:
        return LicenceState.UNKNOWN
    today, last_expiring_day = _boundaries(today, within_days)
    if timeout < today:
        return LicenceState.EXPIRED
    if timeout <= last_expiring_day:
        return LicenceState.EXPIRING
    return LicenceState.OK


def licence_condition(
    state: str, today: datetime.date | None = None, *, prefix: str = "", within_days: int = EXPIRING_WITHIN_DAYS
) -> Q | None:
    """A filter on ``<prefix>timeout`` for the customers in ``state``; ``None`` for an unknown state.

    ``within_days``: as for ``licence_state``.
    """
    today, last_expiring_day = _boundaries(today, within_days)
    timeout = f"{prefix}timeout"
    return {
        LicenceState.EXPIRED: Q(**{f"{timeout}__lt": today}),
        LicenceState.EXPIRING: Q(**{f"{timeout}__gte": today, f"{timeout}__lte": last_expiring_day}),
        LicenceState.OK: Q(**{f"{timeout}__gt": last_expiring_day}),
        LicenceState.UNKNOWN: Q(**{f"{timeout}__isnull": True}),
    }.get(state)
