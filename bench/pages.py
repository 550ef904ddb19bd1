"""Lists and dashboard: server time of staff pages on a large fleet, measured in process.

Django's test client calls the whole stack (middleware, authentication, view, template or serializer,
every query) in this process against the bench database, so the time is the server's alone, without
a network or a load generator beside it. Each page is compared with a page of the same kind that
does not grow with the data, requested alternately with it:

- ``/user/list?code=`` of a customer with 50,000 users against the same request for a customer with
  10 users (what the indexes must make it: independent of the customer's size);
- the admin index with its fleet dashboard (5,000 customers, 2,000,000 server reports) against the
  admin's password-change page (same console, session and middleware, no fleet figures).

The data is generated in SQL (``INSERT … SELECT generate_series``), never through the ORM.
"""

import re
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .common import interleaved, log, median, summary

BIG = "0513002"  # 50,000 users
SMALL = "0513003"  # 10 users
NOISE_CUSTOMERS = 4  # other customers' users in the same table, 50,000 each
CUSTOMERS = 5_000
REPORTS = 2_000_000
REPORT_DAYS = 400  # spread evenly over the retention period (ZWADMIN_REPORT_RETENTION_DAYS)

LIST_PAGES = {
    "first page": "/user/list?code={code}",
    "filtered, ordered page": "/user/list?code={code}&fmsgs__gte=50000&ordering=-fmsgs&page=3",
    # Support looks a person up by part of a name: "用户4321" is 11 of the customer's 50,000 users.
    "nickname search, ordered": "/user/list?code={code}&nickname=%E7%94%A8%E6%88%B74321&ordering=-last_reported_at",
    "reported since, ordered by nickname": "/user/list?code={code}&reported_since=2020-01-01&ordering=nickname",
    # A figure with no index of its own: the customer's rows are read and the top of them sorted.
    "ordered by online time (no index)": "/user/list?code={code}&ordering=-onlinetime&page=2",
}
DASHBOARD = "/admin/"
DASHBOARD_BASELINE = "/admin/password_change/"


def _execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _create_customers(codes: list[str]) -> None:
    """Registry customers with these codes (the ORM's ``bulk_create``, so every column gets its model default):
    licences expired, expiring, valid and unknown, most with a licensed MAC, one in fifty removed."""
    import datetime
    import hashlib

    from django.utils import timezone

    from customers.models import Customer

    today, now = timezone.localdate(), timezone.now()
    existing = set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))
    customers = []
    for number, code in enumerate(codes):
        if code in existing:
            continue
        digest = hashlib.md5(code.encode()).hexdigest().upper()  # noqa: S324 - a made-up MAC, not security
        host = f"10.0.{number % 250}.1"
        customers.append(
            Customer(
                code=code,
                name=f"客户 {code}",
                mac="" if number % 3 == 0 else ":".join(digest[i : i + 2] for i in range(0, 12, 2)),
                tcphost=host,
                tcpport=10003,
                webhost=host,
                webport=10001,
                filehost=host,
                fileport=10004,
                timeout=(
                    today - datetime.timedelta(days=number % 300),
                    today + datetime.timedelta(days=number % 30),
                    today + datetime.timedelta(days=365 + number % 700),
                    None,
                )[number % 4],
                service_engineer=f"engineer {number % 20}",
                removed_at=now if number % 50 == 49 else None,
            )
        )
    Customer.objects.bulk_create(customers, batch_size=1000)


def generate_lists_data() -> None:
    """50,000 users of BIG, 10 of SMALL, and 50,000 of each of a few other customers in the same table."""
    from . import lookup

    lookup.prepare()
    _create_customers([f"0513{number:03d}" for number in range(2, 4 + NOISE_CUSTOMERS)])  # BIG, SMALL, the others
    for code, count in [(BIG, 50_000), (SMALL, 10)] + [(f"0513{4 + i:03d}", 50_000) for i in range(NOISE_CUSTOMERS)]:
        _execute(
            """
            INSERT INTO telemetry_imuser (customer_id, uuid, nickname, onlinetime, andtimes, pctimes, iostimes,
                fmsgs, tmsgs, first_reported_at, last_reported_at)
            SELECT c.id, md5(c.code || g::text)::uuid::text,
                substr('张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗', 1 + g %% 20, 1) || '用户' || g,
                (g::bigint * 7919) %% 100000, (g::bigint * 104729) %% 50000, (g::bigint * 1299709) %% 50000,
                (g::bigint * 15485863) %% 50000,
                (g::bigint * 179424673) %% 100000, (g::bigint * 32452843) %% 100000,
                now() - make_interval(days => g %% 400), now() - make_interval(mins => g %% 20000)
            FROM customers_customer c, generate_series(1, %s) AS g
            WHERE c.code = %s
            ON CONFLICT (customer_id, uuid) DO NOTHING
            """,
            [count, code],
        )
    _execute("VACUUM ANALYZE telemetry_imuser")


def generate_fleet_data() -> None:
    """5,000 customers (2% removed), the latest status of 90% of them, 2,000,000 reports, 300 unknown codes."""
    from customers.models import Customer

    _create_customers([f"06{number:05d}" for number in range(1, 1 + CUSTOMERS - Customer.objects.count())])
    _execute(
        """
        INSERT INTO telemetry_serverstatus (customer_id, name, mac, ip, timeout, count, updatetimes, reported_at,
            sender_address, first_reported_at, reports)
        SELECT id, name, CASE WHEN code::bigint % 17 = 0 THEN 'AA:BB:CC:DD:EE:FF' ELSE mac END, '10.1.0.1',
            CASE WHEN code::bigint % 23 = 0 THEN current_date + 1000 ELSE timeout END,
            (code::bigint % 3000), (code::bigint % 500),
            now() - make_interval(hours => (code::bigint % 96)::int), '10.1.0.1', now() - interval '400 days', 400
        FROM customers_customer WHERE code::bigint % 10 <> 0
        ON CONFLICT (customer_id) DO NOTHING
        """
    )
    log(f"fleet: {REPORTS:,} server reports over {REPORT_DAYS} days")
    _execute(
        f"""
        INSERT INTO telemetry_serverreport (customer_id, name, mac, ip, timeout, count, updatetimes, reported_at,
            sender_address)
        SELECT c.ids[1 + g % c.n], 'IM server', '', '10.1.0.1', NULL, g % 3000, g % 500,
            now() - make_interval(secs => g::double precision * {REPORT_DAYS * 86400} / {REPORTS}), '10.1.0.1'
        FROM (SELECT array_agg(id ORDER BY code) AS ids, count(*)::int AS n FROM customers_customer) AS c,
            generate_series(1, {REPORTS}) AS g
        """
    )
    _execute(
        """
        INSERT INTO telemetry_unregisteredserver (code, name, mac, ip, count, sender_address, first_seen_at,
            last_seen_at, reports)
        SELECT '09' || lpad(g::text, 5, '0'), 'unknown', '', NULL, 0, '10.2.0.1', now(), now(), 1
        FROM generate_series(1, 300) AS g
        ON CONFLICT (code) DO NOTHING
        """
    )
    # What autovacuum would have done on a production database by now (visibility map, statistics).
    _execute("VACUUM ANALYZE")


def _staff_client() -> Client:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first() or user_model.objects.create_superuser(
        "bench", "bench@example.com", None
    )
    client = Client()
    client.force_login(user)
    return client


def _timed(client: Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed * 1000


def _queries(client: Client, path: str) -> list[dict]:
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in captured.captured_queries]


def _explain(sql: str) -> str:
    """PostgreSQL's plan of a captured query, as it ran (``EXPLAIN (ANALYZE, BUFFERS)``)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
    except Exception as error:  # a query Django printed with parameters PostgreSQL cannot read back
        return f"(no plan: {error})"


def run_lists(*, rounds: int) -> dict:
    client = _staff_client()
    results = {}
    for name, template in LIST_PAGES.items():
        # The 10-user customer has one page: its baseline asks for that page, with the same filters and order.
        big = template.format(code=BIG)
        small = re.sub(r"&page=\d+", "", template.format(code=SMALL))
        for _ in range(2):  # warm: connection, caches, the planner's statistics
            _timed(client, big)
            _timed(client, small)
        base, cand = interleaved(rounds, lambda s=small: _timed(client, s), lambda b=big: _timed(client, b))
        queries = _queries(client, big)
        results[name] = {
            "path": big,
            "baseline_ms": summary(base),
            "candidate_ms": summary(cand),
            "queries": queries,
        }
        log(f"lists {name}: {median(cand):.1f} ms (10-user customer {median(base):.1f} ms), {len(queries)} queries")
    return results


def dashboard_queries() -> int:
    """How many queries the dashboard page makes now (measured on a small and on the full fleet)."""
    from . import lookup

    lookup.prepare()
    client = _staff_client()
    client.get(DASHBOARD)
    return len(_queries(client, DASHBOARD))


def run_dashboard(*, rounds: int, small_fleet_queries: int) -> dict:
    client = _staff_client()
    for _ in range(2):
        _timed(client, DASHBOARD)
        _timed(client, DASHBOARD_BASELINE)
    base, cand = interleaved(rounds, lambda: _timed(client, DASHBOARD_BASELINE), lambda: _timed(client, DASHBOARD))
    queries = _queries(client, DASHBOARD)
    slowest = sorted(queries, key=lambda q: q["ms"], reverse=True)[:3]
    slowest[0]["plan"] = _explain(slowest[0]["sql"])
    log(f"dashboard: {median(cand):.1f} ms (password page {median(base):.1f} ms), {len(queries)} queries")
    return {
        "path": DASHBOARD,
        "baseline_path": DASHBOARD_BASELINE,
        "baseline_ms": summary(base),
        "candidate_ms": summary(cand),
        "queries": len(queries),
        "queries_small_fleet": small_fleet_queries,
        "slowest_queries": slowest,
    }
