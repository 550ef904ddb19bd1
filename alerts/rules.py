"""What each rule watches: one query per family of rules, whatever the size of the fleet.

The states themselves are defined where they belong and only reused here: the licence state in
``customers.licence`` (``licence_state``, ``licence_condition``), the reporting state and the mismatch rule in
``telemetry.states`` (``reporting_condition``, ``silent_after``, ``MISMATCH_CONDITIONS``). A family is a set of
rules whose alerts exclude one another for a subject: the four licence rules form a ladder (a customer has at
most one of them open, the most urgent that holds); every other rule is a family of its own.

``subjects(rules, now, customer_ids=…, codes=…)`` of a family answers, for every subject in one of its
conditions, which rule holds and since when; ``customer_ids`` / ``codes`` narrow it to some subjects (the
ingest's immediate check). Subjects are customers in the registry (by id) or, for the unregistered rule, codes.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.licence import LicenceState, licence_condition, licence_state
from customers.models import Customer
from telemetry.models import ServerReport
from telemetry.selectors import unregistered_servers
from telemetry.states import MISMATCH_CONDITIONS, Mismatch, ReportingState, reporting_condition, silent_after

from .models import Rule, RuleKey


@dataclass(frozen=True)
class RuleSpec:
    """How a rule's threshold reads in the console, and its default."""

    unit: Any = ""  # the threshold's unit; "" when the rule has none
    default: int | None = None
    help: Any = ""


RULES: dict[str, RuleSpec] = {
    RuleKey.SILENT: RuleSpec(
        _("hours"), None, _("No report for this many hours. Empty: the console's silent boundary.")
    ),
    RuleKey.NEVER_REPORTED: RuleSpec(_("days"), 7, _("Registered this many days ago and never reported.")),
    RuleKey.LICENCE_FIRST: RuleSpec(_("days"), 30, _("The licence expires within this many days.")),
    RuleKey.LICENCE_SECOND: RuleSpec(_("days"), 7, _("The licence expires within this many days.")),
    RuleKey.LICENCE_LAST: RuleSpec(_("days"), 1, _("The licence expires within this many days.")),
    RuleKey.LICENCE_EXPIRED: RuleSpec(help=_("The licence expiry date has passed.")),
    RuleKey.MAC_MISMATCH: RuleSpec(help=_("The server's latest report carries a MAC other than the licensed one.")),
    RuleKey.TIMEOUT_MISMATCH: RuleSpec(
        help=_("The server's latest report carries a licence expiry other than the registry's.")
    ),
    RuleKey.UNREGISTERED: RuleSpec(
        _("days"), 7, _("A code the registry does not know has reported within this many days.")
    ),
    RuleKey.USER_COUNT: RuleSpec(
        _("per cent"), 50, _("The reported user count differs by more than this share from the one a day earlier.")
    ),
}

LICENCE_LADDER = (RuleKey.LICENCE_FIRST, RuleKey.LICENCE_SECOND, RuleKey.LICENCE_LAST)


def threshold(rule: Rule) -> int | None:
    """The rule's threshold, its default when the operator left it empty."""
    return rule.threshold if rule.threshold is not None else RULES[rule.key].default


def silent_hours(rule: Rule) -> datetime.timedelta:
    return datetime.timedelta(hours=rule.threshold) if rule.threshold else silent_after()


@dataclass(frozen=True)
class Subject:
    """One subject in a rule's condition: who, and since when."""

    rule: Rule
    since: datetime.datetime
    code: str
    name: str
    customer_id: Any = None
    service_engineer: str = ""
    raw_details: dict = field(default_factory=dict)

    @property
    def details(self) -> dict:
        """What the message shows, as JSON keeps it (made only for the subjects that open an alert: the steady
        run holds thousands)."""
        return {name: _plain(value) for name, value in self.raw_details.items()}

    @property
    def key(self):
        return self.customer_id if self.customer_id is not None else self.code


_CUSTOMER = ("id", "code", "name", "service_engineer")


def _customers(customer_ids: Iterable | None):
    customers = Customer.objects.active().order_by()
    return customers if customer_ids is None else customers.filter(pk__in=list(customer_ids))


def _subject(rule: Rule, row: dict, since: datetime.datetime, **details) -> Subject:
    return Subject(
        rule=rule,
        since=since,
        code=row["code"],
        name=row["name"],
        customer_id=row["id"],
        service_engineer=row["service_engineer"],
        raw_details=details,
    )


def _plain(value):
    """A value JSON can keep (dates as ISO text)."""
    return value.isoformat() if isinstance(value, datetime.date | datetime.datetime) else value


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def silent(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
    (rule,) = rules
    after = silent_hours(rule)
    rows = (
        _customers(customer_ids)
        .filter(reporting_condition(ReportingState.SILENT, now, after=after))
        .values(*_CUSTOMER, last_report=F("server_status__reported_at"))
    )
    return [
        _subject(
            rule, row, row["last_report"] + after, last_report=row["last_report"], hours=after.total_seconds() // 3600
        )
        for row in rows
    ]


def never_reported(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
    (rule,) = rules
    grace = datetime.timedelta(days=threshold(rule))
    rows = (
        _customers(customer_ids)
        .filter(reporting_condition(ReportingState.NEVER, now), created_at__lte=now - grace)
        .values(*_CUSTOMER, "created_at")
    )
    return [
        _subject(rule, row, row["created_at"] + grace, registered=row["created_at"], days=grace.days) for row in rows
    ]


def licence(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
    """The ladder: each customer under its most urgent licence rule that holds (expired, then the narrowest
    window)."""
    today = timezone.localdate(now)
    expired = next((rule for rule in rules if rule.key == RuleKey.LICENCE_EXPIRED), None)
    windows = sorted(
        (rule for rule in rules if rule.key in LICENCE_LADDER), key=lambda rule: (threshold(rule), rule.pk)
    )
    condition = Q(pk__in=[])
    if expired is not None:
        condition |= licence_condition(LicenceState.EXPIRED, today)
    if windows:
        widest = max(threshold(rule) for rule in windows)
        condition |= licence_condition(LicenceState.EXPIRING, today, within_days=widest)
    subjects = []
    for row in _customers(customer_ids).filter(condition).values(*_CUSTOMER, "timeout"):
        timeout = row["timeout"]
        if licence_state(timeout, today) == LicenceState.EXPIRED:
            if expired is not None:
                subjects.append(
                    _subject(expired, row, _local_midnight(timeout + datetime.timedelta(days=1)), timeout=timeout)
                )
            continue
        for rule in windows:
            days = threshold(rule)
            if licence_state(timeout, today, within_days=days) == LicenceState.EXPIRING:
                since = _local_midnight(timeout - datetime.timedelta(days=days))
                subjects.append(_subject(rule, row, since, timeout=timeout, days=days))
                break
    return subjects


def _mismatch(which: Mismatch, registered: str, reported: str):
    def evaluate(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
        (rule,) = rules
        rows = (
            _customers(customer_ids)
            .filter(MISMATCH_CONDITIONS[which])
            .values(
                *_CUSTOMER,
                registered,
                reported_value=F(f"server_status__{reported}"),
                at=F("server_status__reported_at"),
            )
        )
        # Since when it differs is not kept (only the latest report is compared): the report that shows it.
        return [
            _subject(rule, row, min(row["at"], now), registered=row[registered], reported=row["reported_value"])
            for row in rows
        ]

    return evaluate


def unregistered(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
    """Codes that reported within the threshold's days and are still not in the registry (removed customers'
    codes included: creating the customer clears it)."""
    (rule,) = rules
    sightings = unregistered_servers().filter(last_seen_at__gte=now - datetime.timedelta(days=threshold(rule)))
    if codes is not None:
        sightings = sightings.filter(code__in=list(codes))
    return [
        Subject(
            rule=rule,
            since=row["first_seen_at"],
            code=row["code"],
            name=row["name"],
            raw_details={"mac": row["mac"], "ip": row["ip"], "count": row["count"], "last_seen": row["last_seen_at"]},
        )
        for row in sightings.order_by().values("code", "name", "mac", "ip", "count", "first_seen_at", "last_seen_at")
    ]


DAY = datetime.timedelta(days=1)


def user_count(rules: list[Rule], now, customer_ids=None, codes=None, known=frozenset()) -> list[Subject]:
    """The latest reported user count against the last one reported at least a day before it.

    One query over the fleet, one index probe per customer on (customer, -reported_at), numbers only; then,
    for the customers whose jump is new (not in ``known``), one query for the reports' times the message shows.
    """
    (rule,) = rules
    share = threshold(rule) / 100
    day_before = ServerReport.objects.filter(
        customer=OuterRef("pk"), reported_at__lte=OuterRef("server_status__reported_at") - DAY
    ).order_by("-reported_at")
    rows = (
        _customers(customer_ids)
        .filter(server_status__isnull=False)
        .annotate(before=Subquery(day_before.values("count")[:1]))
        .values_list(*_CUSTOMER, "before", "server_status__count")
    )
    changed = {
        row[0]: row for row in rows if row[4] and abs(row[5] - row[4]) > share * row[4]
    }  # (id, code, name, engineer, before, after) by customer id
    new = [pk for pk in changed if (rule.pk, pk) not in known]
    times = {}
    if new:
        times = {
            pk: (at, before_at)
            for pk, at, before_at in Customer.objects.filter(pk__in=new)
            .annotate(before_at=Subquery(day_before.values("reported_at")[:1]))
            .values_list("pk", "server_status__reported_at", "before_at")
        }
    subjects = []
    for pk, (_pk, code, name, engineer, before, after) in changed.items():
        at, before_at = times.get(pk, (now, None))
        row = {"id": pk, "code": code, "name": name, "service_engineer": engineer}
        subjects.append(_subject(rule, row, at, before=before, before_at=before_at, after=after, share=threshold(rule)))
    return subjects


@dataclass(frozen=True)
class Family:
    name: str
    keys: tuple[str, ...]
    subjects: Callable[..., list[Subject]]
    by_code: bool = False  # subjects are codes, not customers


FAMILIES = (
    Family("silent", (RuleKey.SILENT,), silent),
    Family("never_reported", (RuleKey.NEVER_REPORTED,), never_reported),
    Family("licence", (*LICENCE_LADDER, RuleKey.LICENCE_EXPIRED), licence),
    Family("mac_mismatch", (RuleKey.MAC_MISMATCH,), _mismatch(Mismatch.MAC, "mac", "mac")),
    Family("timeout_mismatch", (RuleKey.TIMEOUT_MISMATCH,), _mismatch(Mismatch.TIMEOUT, "timeout", "timeout")),
    Family("unregistered", (RuleKey.UNREGISTERED,), unregistered, by_code=True),
    Family("user_count", (RuleKey.USER_COUNT,), user_count),
)
FAMILY_OF = {key: family for family in FAMILIES for key in family.keys}
# What ingest can change at once (telemetry.signals.reports_committed): the mismatches and the sightings.
INGEST_FAMILIES = (FAMILY_OF[RuleKey.MAC_MISMATCH], FAMILY_OF[RuleKey.TIMEOUT_MISMATCH])
SIGHTING_FAMILY = FAMILY_OF[RuleKey.UNREGISTERED]
