"""Alerts: one evaluation of every rule on a large fleet, measured in process (``make bench``, section "alerts").

The fleet is the dashboard's (``pages.generate_fleet_data``: 5,000 customers, 2,000,000 server reports, 300
unregistered codes), with one e-mail channel subscribed to every rule. Figures:

- the steady evaluation, what ``run_alerts`` does every minute (every condition already has its open alert):
  target under 1 s; compared with one read of the whole fleet (``SELECT`` of every customer and its status);
- the first evaluation, which opens every alert at once and queues its messages (reported, no target);
- its queries: the same number on a fleet of a few customers and on the large one (``CaptureQueriesContext``).

Nothing is sent: the outbox is not drained (sending is the robots' and the mail server's time, not ours).
"""

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from . import pages
from .common import interleaved, log, median, summary


def _channel() -> None:
    from alerts.models import Channel, ChannelKind
    from alerts.services import rules_by_key

    channel, _created = Channel.objects.get_or_create(
        name="bench", defaults={"kind": ChannelKind.EMAIL, "recipients": "ops@example.com"}
    )
    channel.rules.set(rules_by_key().values())


def _evaluate_ms() -> float:
    from alerts.services import alerts_evaluate

    start = time.perf_counter()
    alerts_evaluate()
    return (time.perf_counter() - start) * 1000


def _queries() -> int:
    from alerts.services import alerts_evaluate

    with CaptureQueriesContext(connection) as captured:
        alerts_evaluate()
    return len(captured)


def _read_fleet_ms() -> float:
    from customers.models import Customer

    start = time.perf_counter()
    list(Customer.objects.active().values_list("id", "code", "timeout", "server_status__reported_at"))
    return (time.perf_counter() - start) * 1000


def small_fleet_queries() -> int:
    """Before the fleet is generated: the queries of an evaluation that opens alerts and of one that does not."""
    from . import lookup

    lookup.prepare()
    _channel()
    first = _queries()
    return first, _queries()


def run(*, rounds: int, small: tuple[int, int]) -> dict:
    from alerts.models import Alert, OutboxMessage
    from customers.models import Customer

    if Customer.objects.count() < pages.CUSTOMERS:  # the dashboard section may have made it already
        log(f"alerts: generating {pages.CUSTOMERS:,} customers and {pages.REPORTS:,} reports in SQL")
        pages.generate_fleet_data()
    _channel()
    Alert.objects.all().delete()
    OutboxMessage.objects.all().delete()
    with CaptureQueriesContext(connection) as captured:
        first_ms = _evaluate_ms()
    first_queries = len(captured)
    opened = Alert.objects.count()
    # What autovacuum does soon after thousands of rows arrive: without statistics the planner reads the new
    # alerts as an empty table. Measured like this, the figure is the steady minute's, not that of the hour after
    # the very first evaluation.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE alerts_alert, alerts_outboxmessage")
    _evaluate_ms()  # warm
    base, cand = interleaved(rounds, _read_fleet_ms, _evaluate_ms)
    steady_queries = _queries()
    log(
        f"alerts: first evaluation {first_ms:.0f} ms ({opened:,} alerts opened, {first_queries} queries), "
        f"then {median(cand):.0f} ms ({steady_queries} queries; fleet read {median(base):.0f} ms)"
    )
    return {
        "customers": Customer.objects.count(),
        "alerts_opened": opened,
        "messages_queued": OutboxMessage.objects.count(),
        "first_ms": first_ms,
        "first_queries": first_queries,
        "baseline_ms": summary(base),
        "candidate_ms": summary(cand),
        "queries": steady_queries,
        "queries_small_fleet": small[1],
        "first_queries_small_fleet": small[0],
    }


def rows(result: dict, row, *, target_ms: float) -> list[dict]:
    """The table's rows (``row`` is bench.run's row builder)."""
    c, b = result["candidate_ms"]["median"], result["baseline_ms"]["median"]
    why = "the slowest family's query is in its plan: run the section alone and EXPLAIN it (bench/alerts.py)"
    return [
        row(
            f"alerts: evaluation of {result['customers']:,} customers, nothing changed",
            c,
            b,
            c / b,
            f"< {target_ms:g} ms",
            c < target_ms,
            unit="ms",
            baseline_name="one read of the fleet",
            why=why,
        ),
        row(
            f"  first evaluation: {result['alerts_opened']:,} alerts opened ({result['first_queries']} queries: "
            "the inserts are split at PostgreSQL's 65,535 parameters)",
            result["first_ms"],
            None,
            None,
            "",
            None,
            unit="ms",
        ),
        row(
            "  queries (large fleet vs a few customers)",
            result["queries"],
            result["queries_small_fleet"],
            result["queries"] / result["queries_small_fleet"],
            "constant",
            result["queries"] == result["queries_small_fleet"],
            baseline_name="same evaluation, fleet of a few",
            why="a query per customer or per alert somewhere in alerts.services",
        ),
    ]
