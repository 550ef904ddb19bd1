"""The fleet at a glance: the figures of the console's front page.

Spans both apps (the registry and what its servers report), hence here rather than in either. The states it
counts are defined where they belong (``customers.licence``, ``telemetry.states``), and the customer
changelist's filters (``console.admin``) use the same conditions, so a figure and the list its link opens
always agree. Every
figure is computed with a fixed number of aggregate queries, whatever the size of the fleet:

1. one conditional aggregation over the active customers LEFT JOIN their latest status;
2. one sum of the messages sent by the active customers' users (their latest daily usage totals);
3. one count of the unregistered codes;
4. one query counting the reports of each of the last ``REPORTS_PER_DAY_DAYS`` days (the ``reported_at`` index).

The 需要处理 table (``trouble``) names the customers behind the problem figures, most urgent first, in two more
queries: the first ``TROUBLE_ROWS`` customers in trouble, and as many unregistered servers.
"""

import datetime
from dataclasses import dataclass
from enum import IntEnum

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.licence import LicenceState, licence_condition, licence_state
from customers.models import Customer
from telemetry.models import ServerReport, UnregisteredServer, UsageDay
from telemetry.selectors import unregistered_servers
from telemetry.states import (
    MISMATCH_CONDITIONS,
    REPORTED_LAST_DAY,
    Mismatch,
    ReportingState,
    differs,
    reporting_condition,
    reporting_state,
)

REPORTS_PER_DAY_DAYS = 30
# The 需要处理 table's length on the front page; the customer list filtered by 需要处理 (?attention=yes) names
# every one, and the figures above the table link to each kind.
TROUBLE_ROWS = 20


@dataclass(frozen=True)
class DayCount:
    day: datetime.date
    value: int


@dataclass(frozen=True)
class FleetFigures:
    """What the front page shows; each count is of active customers unless its name says otherwise."""

    customers: int
    reported_last_day: int
    silent: int
    never_reported: int
    licence_expired: int
    licence_expiring: int
    mismatch: int
    in_trouble: int
    mac_mismatch: int
    timeout_mismatch: int
    unregistered_servers: int
    total_users: int
    total_messages: int
    reports_per_day: list[DayCount]
    silent_after_hours: int


def fleet_figures(*, now: datetime.datetime | None = None) -> FleetFigures:
    """The fleet dashboard's figures, in four aggregate queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    active = Customer.objects.active()

    def count(condition: Q):
        return Count("pk", filter=condition)

    figures = active.aggregate(
        customers=Count("pk"),
        reported_last_day=count(reporting_condition(REPORTED_LAST_DAY, now)),
        silent=count(reporting_condition(ReportingState.SILENT, now)),
        never_reported=count(reporting_condition(ReportingState.NEVER, now)),
        licence_expired=count(licence_condition(LicenceState.EXPIRED, today)),
        licence_expiring=count(licence_condition(LicenceState.EXPIRING, today)),
        mismatch=count(MISMATCH_CONDITIONS[Mismatch.ANY]),
        in_trouble=count(trouble_condition(now)),
        mac_mismatch=count(MISMATCH_CONDITIONS[Mismatch.MAC]),
        timeout_mismatch=count(MISMATCH_CONDITIONS[Mismatch.TIMEOUT]),
        total_users=Sum("server_status__count", default=0),
    )
    figures["total_messages"] = total_messages_sent()
    figures["unregistered_servers"] = unregistered_servers().count()
    return FleetFigures(
        **figures,
        reports_per_day=reports_per_day(now=now),
        silent_after_hours=settings.TELEMETRY_SILENT_AFTER_HOURS,
    )


def total_messages_sent() -> int:
    """Messages sent by the active customers' users, as last reported.

    The sum of every ``ImUser.fmsgs``, read from each customer's latest ``UsageDay`` (ingest keeps it equal to
    that sum after every user batch): one index probe per customer instead of a pass over every IM user
    (a million users cost a few hundred milliseconds on PostgreSQL; 5,000 probes a few dozen).
    """
    latest = UsageDay.objects.filter(customer=OuterRef("pk")).order_by("-day").values("fmsgs")[:1]
    active = Customer.objects.active().annotate(fmsgs=Subquery(latest))
    return active.aggregate(total=Sum("fmsgs", default=0))["total"]


def reports_per_day(*, now: datetime.datetime | None = None, days: int = REPORTS_PER_DAY_DAYS) -> list[DayCount]:
    """Reports received on each of the last ``days`` local days, today included; days without any count 0.

    One query of ``days`` index-range counts joined by UNION ALL: each counts one local day's slice of the
    ``reported_at`` index (PostgreSQL answers from the index alone), so no row is converted to a local date.
    Grouping the window by ``TruncDate`` instead costs five times as much on 2 million reports.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    day_list = [today - datetime.timedelta(days=days - 1 - i) for i in range(days)]
    bounds = [datetime.datetime.combine(day, datetime.time.min, tzinfo=tz) for day in day_list]
    bounds.append(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz))
    counts = [
        ServerReport.objects.filter(reported_at__gte=bounds[i], reported_at__lt=bounds[i + 1])
        .order_by()
        .annotate(index=Value(i, output_field=IntegerField()))
        .values("index")
        .annotate(reports=Count("*"))
        .values_list("index", "reports")
        for i in range(days)
    ]
    counted = dict(counts[0].union(*counts[1:], all=True))
    return [DayCount(day, counted.get(i, 0)) for i, day in enumerate(day_list)]


@dataclass(frozen=True)
class DailyFigures:
    day: datetime.date
    users: int
    updates: int


def customer_daily_figures(
    *, customer: Customer, days: int = 90, now: datetime.datetime | None = None
) -> tuple[datetime.date, datetime.date, list[DailyFigures]]:
    """The first and last day of the last ``days`` days, and one point per local day with reports: the day's
    highest user count and address-book update count (a server reports several times a day; the highest is
    its busiest moment).

    One query on the (customer, reported_at) index.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    first_day = today - datetime.timedelta(days=days - 1)
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    rows = (
        ServerReport.objects.filter(customer=customer, reported_at__gte=start, reported_at__lt=end)
        .annotate(day=TruncDate("reported_at", tzinfo=tz))
        .order_by("day")
        .values("day")
        .annotate(users=Max("count"), updates=Max("updatetimes"))
        .values_list("day", "users", "updates")
    )
    return first_day, today, [DailyFigures(*row) for row in rows]


# The 需要处理 table: every kind of trouble the figures count, ranked most urgent first.


class Problem(IntEnum):
    """A kind of trouble, by urgency (lower first): a licence or report the registry contradicts, then a
    server that stopped or a licence about to end, then a server that never started."""

    EXPIRED = 1
    MISMATCH = 2
    UNREGISTERED = 3
    SILENT = 4
    EXPIRING = 5
    NEVER_REPORTED = 6


def trouble_condition(now: datetime.datetime) -> Q:
    """Customers with any problem of ``Problem`` (unregistered servers are not customers)."""
    today = timezone.localdate(now)
    return (
        licence_condition(LicenceState.EXPIRED, today)
        | MISMATCH_CONDITIONS[Mismatch.ANY]
        | reporting_condition(ReportingState.SILENT, now)
        | licence_condition(LicenceState.EXPIRING, today)
        | reporting_condition(ReportingState.NEVER, now)
    )


@dataclass(frozen=True)
class Trouble:
    """One row of the table: a customer (or an unregistered server: ``customer`` None) and its problems."""

    problems: list[Problem]
    code: str
    name: str
    customer: Customer | None = None
    server: UnregisteredServer | None = None
    reported_at: datetime.datetime | None = None

    @property
    def urgency(self) -> Problem:
        return min(self.problems)


def _rank(condition: Q, problem: Problem) -> When:
    return When(condition, then=Value(int(problem)))


def trouble(*, now: datetime.datetime | None = None, limit: int = TROUBLE_ROWS) -> list[Trouble]:
    """The customers in trouble and the unregistered servers, most urgent first, at most ``limit`` rows.

    Two queries. SQL ranks and cuts the rows by the same conditions as the figures (``customers.licence``,
    ``telemetry.states``); each row's problems are then told by the same rules in Python.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    ranks = [
        (licence_condition(LicenceState.EXPIRED, today), Problem.EXPIRED),
        (MISMATCH_CONDITIONS[Mismatch.ANY], Problem.MISMATCH),
        (reporting_condition(ReportingState.SILENT, now), Problem.SILENT),
        (licence_condition(LicenceState.EXPIRING, today), Problem.EXPIRING),
        (reporting_condition(ReportingState.NEVER, now), Problem.NEVER_REPORTED),
    ]
    customers = (
        Customer.objects.active()
        .filter(trouble_condition(now))
        .select_related("server_status")
        .annotate(
            urgency=Case(*[_rank(condition, problem) for condition, problem in ranks], output_field=IntegerField())
        )
        .order_by(
            "urgency", F("server_status__reported_at").asc(nulls_last=True), F("timeout").asc(nulls_last=True), "code"
        )
    )[:limit]
    rows = []
    for customer in customers:
        status = getattr(customer, "server_status", None)
        reported_at = status.reported_at if status else None
        licence = licence_state(customer.timeout, today)
        problems = []
        if licence == LicenceState.EXPIRED:
            problems.append(Problem.EXPIRED)
        if status and (differs(customer.mac, status.mac) or differs(customer.timeout, status.timeout)):
            problems.append(Problem.MISMATCH)
        state = reporting_state(reported_at, now)
        if state == ReportingState.SILENT:
            problems.append(Problem.SILENT)
        if licence == LicenceState.EXPIRING:
            problems.append(Problem.EXPIRING)
        if state == ReportingState.NEVER:
            problems.append(Problem.NEVER_REPORTED)
        rows.append(Trouble(problems, customer.code, customer.name, customer=customer, reported_at=reported_at))
    servers = unregistered_servers().order_by("-last_seen_at")[:limit]
    rows += [
        Trouble([Problem.UNREGISTERED], server.code, server.name, server=server, reported_at=server.last_seen_at)
        for server in servers
    ]
    rows.sort(key=lambda row: row.urgency)  # stable: each query's own order stays within a rank
    return rows[:limit]
