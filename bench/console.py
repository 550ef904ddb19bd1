"""The console's list pages at fleet scale: server time and query count of every list page, in process.

The fleet is the benchmark's raised to what one node ingests (docs/performance.md): 20,000 customers,
10,000,000 server reports over 400 days, 5,000,000 IM users, 500,000 groups, 1,000,000 server changes,
and alerts and outbox messages beside them. It is generated in SQL (``INSERT … SELECT generate_series``)
once: a database that already holds it (``--reuse``, bench/run.py) is only migrated and measured again,
since generating it takes about ten minutes on a small machine.

Each page is requested through Django's test client (the whole stack, no network) by a superuser and by a
support user (console/roles.py), with its default order, with a filter and with a search; its query count is
compared with the same page's on a fleet of a few customers (``small_fleet_queries``): it must not grow.
"""

import time
import urllib.parse
from contextlib import contextmanager

from django.db import connection

from .common import log, median, summary

CUSTOMERS = 20_000
REPORTS = 10_000_000
USERS = 5_000_000
GROUPS = 500_000
CHANGES = 1_000_000
ALERTS = 200_000
MESSAGES = 400_000
USER_CUSTOMERS = 19_000  # customers with users besides the lists' six (250,010 users): 250 each
DAYS = 400
# What every rule's text reads (alerts/texts.py), so that any rule's alert renders.
ALERT_DETAILS = (
    '{"registered": "2026-01-01", "reported": "2026-02-01", "hours": 48, "days": 30, "timeout": "2026-03-01", '
    '"last_report": "2026-01-01T00:00:00+08:00", "mac": "AA:BB", "ip": "10.1.0.1", "count": 10, "before": 100, '
    '"after": 10}'
)

SURNAMES = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏飞云辉建国志宇浩然子轩欣怡梓涵思远"


def scale_down() -> None:
    """``--quick``: a fleet a hundred times smaller, to try the bench itself out."""
    global CUSTOMERS, REPORTS, USERS, GROUPS, CHANGES, ALERTS, MESSAGES, USER_CUSTOMERS  # noqa: PLW0603
    CUSTOMERS, REPORTS, USERS, GROUPS, CHANGES = 2_000, 100_000, 300_000, 10_000, 10_000
    ALERTS, MESSAGES, USER_CUSTOMERS = 2_000, 4_000, 1_000


def _execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS t", [10**9])  # noqa: S608
        return cursor.fetchone()[0]


def _estimate(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
        return max(row[0], 0) if row else 0


def _step(table: str, target: int, what: str, sql: str, params=None) -> None:
    """Run ``sql`` unless ``table`` already holds about ``target`` rows (a database generated before)."""
    have = _estimate(table)
    if have >= target * 0.9:
        log(f"console: {table} already holds about {have:,} rows, kept")
        return
    start = time.perf_counter()
    log(f"console: generating {what} in SQL")
    _execute(sql, params if params is not None else [])  # with parameters: %% is %
    log(f"console: {what} in {time.perf_counter() - start:.0f} s")
    _execute(f"ANALYZE {table}")


def generate_console_data() -> None:
    """The fleet at the console's scale (see the module's docstring); what is there already is kept."""
    from . import pages

    if _estimate("telemetry_imuser") < 250_000:
        pages.generate_lists_data()  # six customers "0513…", one with 50,000 users (the /user/list bench)
    have = _estimate("telemetry_serverreport")  # the dashboard's 2,000,000 when it ran first
    if have < REPORTS * 0.9:
        pages.CUSTOMERS, pages.REPORTS, pages.REPORT_DAYS = CUSTOMERS, REPORTS - have, DAYS
        pages.generate_fleet_data()  # customers, their statuses, the reports, 300 unregistered servers
    _step(
        "telemetry_imuser",
        USERS,
        f"{USERS - 250_010:,} IM users",
        f"""
        INSERT INTO telemetry_imuser (customer_id, uuid, nickname, onlinetime, andtimes, pctimes, iostimes,
            fmsgs, tmsgs, first_reported_at, last_reported_at)
        SELECT c.id, md5(c.code || ':' || g::text)::uuid::text,
            substr(%(surnames)s::text, (1 + (c.n * 7 + g * 13) %% {len(SURNAMES)})::int, 1)
                || substr(%(given)s::text, (1 + (c.n * 3 + g * 31) %% {len(GIVEN)})::int, 1)
                || CASE WHEN g %% 3 = 0 THEN ''
                    ELSE substr(%(given)s::text, (1 + (c.n + g * 17) %% {len(GIVEN)})::int, 1) END,
            (g::bigint * 7919) %% 100000, (g::bigint * 104729) %% 50000, (g::bigint * 1299709) %% 50000,
            (g::bigint * 15485863) %% 50000, (g::bigint * 179424673 + c.n) %% 100000,
            (g::bigint * 32452843) %% 100000,
            now() - make_interval(days => ((g + c.n) %% {DAYS})::int),
            now() - make_interval(mins => ((g * 7 + c.n) %% 20000)::int)
        FROM (SELECT id, code, row_number() OVER (ORDER BY code) AS n FROM customers_customer
              WHERE code LIKE '06%%' ORDER BY code LIMIT {USER_CUSTOMERS}) AS c,
            generate_series(1, {(USERS - 250_010) // USER_CUSTOMERS}) AS g
        ON CONFLICT (customer_id, uuid) DO NOTHING
        """,
        {"surnames": SURNAMES, "given": GIVEN},
    )
    _step(
        "telemetry_imgroup",
        GROUPS,
        f"{GROUPS:,} IM groups",
        f"""
        INSERT INTO telemetry_imgroup (customer_id, gid, name, createrid, creatername, ucount, msgcount, ctime,
            fcount, ncount, first_reported_at, last_reported_at)
        SELECT c.id, 'g' || g, substr(%(surnames)s::text, 1 + g %% {len(SURNAMES)}, 1) || '组' || g, 'u' || g,
            substr(%(surnames)s::text, 1 + (g * 7) %% {len(SURNAMES)}, 1)
                || substr(%(given)s::text, 1 + g %% {len(GIVEN)}, 1),
            g %% 500, (g::bigint * 7919) %% 100000, now() - make_interval(days => g %% 1000), g %% 300, g %% 50,
            now() - make_interval(days => g %% {DAYS}), now() - make_interval(mins => g %% 20000)
        FROM (SELECT id, row_number() OVER (ORDER BY code) AS n FROM customers_customer) AS c,
            generate_series(1, {GROUPS // CUSTOMERS}) AS g
        ON CONFLICT (customer_id, gid) DO NOTHING
        """,
        {"surnames": SURNAMES, "given": GIVEN},
    )
    _step(
        "telemetry_serverchange",
        CHANGES,
        f"{CHANGES:,} server changes",
        f"""
        INSERT INTO telemetry_serverchange (customer_id, field, old_value, new_value, changed_at, sender_address)
        SELECT c.ids[1 + g %% c.n], (ARRAY['name', 'mac', 'ip'])[1 + g %% 3],
            'value ' || g, 'value ' || (g + 1),
            now() - make_interval(secs => g::double precision * {DAYS * 86400} / {CHANGES}), '10.1.0.1'
        FROM (SELECT array_agg(id ORDER BY code) AS ids, count(*)::int AS n FROM customers_customer) AS c,
            generate_series(1, {CHANGES}) AS g
        """,
    )
    _execute(
        """
        INSERT INTO alerts_channel (name, kind, enabled, recipients, webhook_url, secret, service_engineer,
            created_at, updated_at)
        SELECT 'channel ' || g, 'email', true, 'ops@example.com', '', '', '', now(), now()
        FROM generate_series(1, 20) AS g
        ON CONFLICT (name) DO NOTHING
        """
    )
    # Resolved alerts of the past (one open one per rule and customer at most: the constraint).
    _step(
        "alerts_alert",
        ALERTS,
        f"{ALERTS:,} alerts",
        f"""
        INSERT INTO alerts_alert (rule_id, customer_id, code, name, details, since, opened_at, resolved_at,
            resolution, silence_reason)
        SELECT r.ids[1 + g %% r.n], c.ids[1 + (g * 7) %% c.n], '', 'customer', %(details)s::jsonb,
            now() - make_interval(secs => g::double precision * {DAYS * 86400} / {ALERTS}),
            now() - make_interval(secs => g::double precision * {DAYS * 86400} / {ALERTS}),
            CASE WHEN g > 2000 THEN now() - make_interval(secs => g::double precision * {DAYS * 86400} / {ALERTS}
                - 3600) END,
            CASE WHEN g > 2000 THEN 'ended' ELSE '' END, ''
        FROM (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM alerts_rule) AS r,
            (SELECT array_agg(id ORDER BY code) AS ids, count(*)::int AS n FROM customers_customer) AS c,
            generate_series(1, {ALERTS}) AS g
        ON CONFLICT DO NOTHING
        """,
        {"details": ALERT_DETAILS},
    )
    _execute(
        "UPDATE alerts_alert a SET code = c.code FROM customers_customer c WHERE a.code = '' AND c.id = a.customer_id"
    )
    # The rules whose "registered" is a moment or a MAC rather than a day (alerts/texts.py).
    _execute(
        """
        UPDATE alerts_alert a SET details = a.details || CASE r.key
            WHEN 'never_reported' THEN '{"registered": "2026-01-01T00:00:00+08:00"}'::jsonb
            ELSE '{"registered": "AA:BB:CC:DD:EE", "reported": "AA:BB:CC:DD:FF"}'::jsonb END
        FROM alerts_rule r
        WHERE r.id = a.rule_id AND r.key IN ('never_reported', 'mac_mismatch')
            AND a.details->>'registered' = '2026-01-01'
        """
    )
    _step(
        "alerts_outboxmessage",
        MESSAGES,
        f"{MESSAGES:,} outbox messages",
        f"""
        INSERT INTO alerts_outboxmessage (key, channel_id, alert_id, kind, title, lines, link, status, held,
            attempts, created_at, due_at, next_attempt_at, sent_at, last_error)
        SELECT md5('m' || g)::uuid, ch.ids[1 + g %% ch.n], NULL, 'opened', '告警 客户 ' || g, '[]'::jsonb, '',
            (ARRAY['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'digested', 'failed', 'pending'])
                [1 + g %% 10],
            false, 1, now() - make_interval(secs => g::double precision * {DAYS * 86400} / {MESSAGES}),
            now(), now(), now(), ''
        FROM (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM alerts_channel) AS ch,
            generate_series(1, {MESSAGES}) AS g
        ON CONFLICT DO NOTHING
        """,
    )
    # The fleet's reports are sent without a MAC; one in a thousand gets one, so that the MAC search finds rows.
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM telemetry_serverreport WHERE mac LIKE 'AA:BB:CC:%%')")
        if not cursor.fetchone()[0]:
            log("console: a MAC for one report in a thousand")
            _execute(
                "UPDATE telemetry_serverreport SET mac = 'AA:BB:CC:00:' || lpad(to_hex(id %% 256), 2, '0') || ':01' "
                "WHERE id %% 1000 = 0",
                [],
            )
    _execute("VACUUM ANALYZE")


@contextmanager
def small_database(database_url: str):
    """The bench's connection on a new database ``<bench database>_small``, migrated, for the block's time."""
    from django.core.management import call_command

    from .common import recreate_database

    parts = urllib.parse.urlsplit(database_url)
    small_url = urllib.parse.urlunsplit(parts._replace(path=parts.path + "_small"))
    recreate_database(small_url)
    settings_dict = connection.settings_dict
    name = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = name + "_small"
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = name
        drop_database(small_url)


def drop_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(database_url)
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(parts.path[1:])))


def small_fleet_query_counts(database_url: str) -> dict[str, int]:
    """Every page's query count on a fleet of six customers and a row of each kind (a database of its own)."""
    with small_database(database_url):
        generate_small_fleet()
        return query_counts()


def generate_small_fleet() -> None:
    """A fleet of the lists' six customers and a few rows of every kind: the pages' query counts to compare."""
    from . import pages

    # 0601234 and every value below are what the pages' searches look for: each search finds a row, so its
    # query count includes the queries of the rows it shows, as on the large fleet.
    pages._create_customers([f"0513{number:03d}" for number in range(2, 8)] + ["0601234"])
    _execute(
        """
        INSERT INTO telemetry_serverreport (customer_id, name, mac, ip, count, updatetimes, reported_at,
            sender_address)
        SELECT id, 'IM server', 'AA:BB:CC:DD:EE:FF', '10.1.0.1', 3, 1, now(), '10.1.0.1'
        FROM customers_customer;
        INSERT INTO telemetry_imuser (customer_id, uuid, nickname, onlinetime, andtimes, pctimes, iostimes, fmsgs,
            tmsgs, first_reported_at, last_reported_at)
        SELECT id, 'u1', '张用户4321', 1, 1, 1, 1, 1, 1, now(), now() FROM customers_customer;
        INSERT INTO telemetry_imgroup (customer_id, gid, name, createrid, creatername, ucount, msgcount, fcount,
            ncount, first_reported_at, last_reported_at)
        SELECT id, 'g1', '张组12', 'u1', '张用户4321', 1, 1, 1, 1, now(), now() FROM customers_customer;
        INSERT INTO telemetry_serverchange (customer_id, field, old_value, new_value, changed_at)
        SELECT id, 'mac', 'value 1', 'value 123456', now() FROM customers_customer;
        INSERT INTO telemetry_unregisteredserver (code, name, mac, count, first_seen_at, last_seen_at, reports)
        VALUES ('0900012', 'unknown', '', 0, now(), now(), 1);
        INSERT INTO alerts_channel (name, kind, enabled, recipients, webhook_url, secret, service_engineer,
            created_at, updated_at) VALUES ('channel 1', 'email', true, 'ops@example.com', '', '', '', now(), now());
        INSERT INTO alerts_alert (rule_id, customer_id, code, name, details, since, opened_at, resolution,
            silence_reason)
        SELECT (SELECT min(id) FROM alerts_rule), id, code, name, '{}'::jsonb, now(), now(), '', ''
        FROM customers_customer;
        INSERT INTO alerts_outboxmessage (key, channel_id, kind, title, lines, link, status, held, attempts,
            created_at, due_at, next_attempt_at, last_error)
        SELECT md5('m1')::uuid, id, 'opened', '告警 客户 12345', '[]'::jsonb, '', 'failed', false, 1,
            now(), now(), now(), ''
        FROM alerts_channel;
        ANALYZE
        """
    )


# --- the pages ----------------------------------------------------------------------------------------------

BIG = "0513002"  # the lists' customer with 50,000 users (bench/pages.py), and 500 reports
SEARCH_MS, PAGE_MS = 500, 300
SUPPORT_SEES = {"customer", "serverreport", "serverchange", "imuser", "imgroup", "unregisteredserver", "alert"}

# (list page, what is asked, path): {big} is the big customer's id, {year} and {month} this month's.
PAGES = [
    ("customers", "default", "/admin/customers/customer/"),
    ("customers", "filter: licence expired", "/admin/customers/customer/?licence=expired"),
    ("customers", "filter: silent", "/admin/customers/customer/?reporting=silent"),
    ("customers", "filter: needs attention", "/admin/customers/customer/?attention=yes"),
    ("customers", "filter: differs from the registry", "/admin/customers/customer/?mismatch=any"),
    ("customers", "filter: licence expiring", "/admin/customers/customer/?licence=expiring"),
    ("customers", "filter: removed", "/admin/customers/customer/?registry=removed"),
    ("customers", "search q=05", "/admin/customers/customer/?q=05"),
    ("customer page (tabs)", "default", "/admin/customers/customer/{big}/change/"),
    ("server reports", "default", "/admin/telemetry/serverreport/"),
    ("server reports", "order o=-1", "/admin/telemetry/serverreport/?o=-1"),
    ("server reports", "filter: customer", "/admin/telemetry/serverreport/?customer__id__exact={big}"),
    (
        "server reports",
        "filter: a month",
        "/admin/telemetry/serverreport/?reported_at__year={year}&reported_at__month={month}",
    ),
    ("server reports", "search: customer code", "/admin/telemetry/serverreport/?q=0601234"),
    ("server reports", "search: MAC", "/admin/telemetry/serverreport/?q=AA%3ABB%3ACC"),
    ("server changes", "default", "/admin/telemetry/serverchange/"),
    ("server changes", "filter: field MAC", "/admin/telemetry/serverchange/?field__exact=mac"),
    ("server changes", "filter: customer", "/admin/telemetry/serverchange/?customer__id__exact={big}"),
    ("server changes", "search: value", "/admin/telemetry/serverchange/?q=value+123456"),
    ("IM users", "default", "/admin/telemetry/imuser/"),
    ("IM users", "filter: customer", "/admin/telemetry/imuser/?customer__id__exact={big}"),
    ("IM users", "search q=张", "/admin/telemetry/imuser/?q=%E5%BC%A0"),
    ("IM users", "search: a name", "/admin/telemetry/imuser/?q=%E7%94%A8%E6%88%B74321"),
    ("IM users", "search: customer code", "/admin/telemetry/imuser/?q=0601234"),
    ("IM groups", "default", "/admin/telemetry/imgroup/"),
    ("IM groups", "filter: customer", "/admin/telemetry/imgroup/?customer__id__exact={big}"),
    ("IM groups", "search: a name", "/admin/telemetry/imgroup/?q=%E7%BB%8412"),
    ("unregistered servers", "default", "/admin/telemetry/unregisteredserver/"),
    ("unregistered servers", "filter: not registered", "/admin/telemetry/unregisteredserver/?registered=no"),
    ("unregistered servers", "search", "/admin/telemetry/unregisteredserver/?q=0900012"),
    ("alerts", "default", "/admin/alerts/alert/"),
    ("alerts", "filter: open", "/admin/alerts/alert/?state=open"),
    ("alerts", "search: customer code", "/admin/alerts/alert/?q=0601234"),
    ("alert rules", "default", "/admin/alerts/rule/"),
    ("channels", "default", "/admin/alerts/channel/"),
    ("outbox", "default", "/admin/alerts/outboxmessage/"),
    ("outbox", "filter: not delivered", "/admin/alerts/outboxmessage/?status=problem"),
    ("outbox", "search: title", "/admin/alerts/outboxmessage/?q=%E5%AE%A2%E6%88%B7+12345"),
    ("staff", "default", "/admin/auth/user/"),
    ("staff", "search", "/admin/auth/user/?q=bench"),
    ("roles", "default", "/admin/auth/group/"),
    ("API tokens", "default", "/admin/authtoken/tokenproxy/"),
    ("login records", "default", "/admin/axes/accesslog/"),
    ("login attempts", "default", "/admin/axes/accessattempt/"),
    ("login failures", "default", "/admin/axes/accessfailurelog/"),
]


def _model_of(path: str) -> str:
    return path.split("?")[0].strip("/").split("/")[2]


def _clients() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from console.roles import SUPPORT, roles_sync

    roles_sync()
    user_model = get_user_model()
    superuser = user_model.objects.filter(username="bench").first() or user_model.objects.create_superuser(
        "bench", "bench@example.com", None
    )
    support = user_model.objects.filter(username="bench-support").first()
    if support is None:
        support = user_model.objects.create_user("bench-support", is_staff=True)
        support.groups.add(Group.objects.get(name=SUPPORT))
    clients = {}
    for role, user in (("superuser", superuser), ("support", support)):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(user)
        clients[role] = client
    return clients


def _paths() -> list[tuple[str, str, str, str]]:
    """(page, variant, role, path) of every measurement, with this database's ids filled in."""
    from django.utils import timezone

    from customers.models import Customer

    big = Customer.objects.get(code=BIG).pk
    today = timezone.localdate()
    result = []
    for page, variant, template in PAGES:
        path = template.format(big=big, year=today.year, month=today.month)
        for role in ("superuser", "support"):
            if role == "support" and _model_of(path) not in SUPPORT_SEES:
                continue
            result.append((page, variant, role, path))
    return result


def _get(client, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return response


def _timed(client, path: str) -> float:
    start = time.perf_counter()
    _get(client, path)
    return (time.perf_counter() - start) * 1000


def query_counts() -> dict[str, int]:
    """The number of queries of every page (keyed ``page | variant | role``), as this database is now."""
    from django.test.utils import CaptureQueriesContext

    clients, counts = _clients(), {}
    for page, variant, role, path in _paths():
        _get(clients[role], path)
        with CaptureQueriesContext(connection) as captured:
            _get(clients[role], path)
        counts[f"{page} | {variant} | {role}"] = len(captured.captured_queries)
    return counts


def run(*, rounds: int, small_counts: dict[str, int] | None) -> dict:
    """Every page's median time over ``rounds`` and its queries, the slowest query of each with its plan."""
    from django.test.utils import CaptureQueriesContext

    from .pages import _explain

    clients, results = _clients(), {}
    for page, variant, role, path in _paths():
        client = clients[role]
        try:
            for _ in range(2):  # warm: the connection, caches, the planner's statistics
                _timed(client, path)
        except RuntimeError as error:  # a page that fails is logged and left out, not the end of the run
            log(f"console {page} | {variant} | {role}: {error}")
            continue
        times = [_timed(client, path) for _ in range(rounds)]
        with CaptureQueriesContext(connection) as captured:
            _get(client, path)
        queries = [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in captured.captured_queries]
        slowest = max(queries, key=lambda q: q["ms"])
        slowest["plan"] = _explain(slowest["sql"])
        key = f"{page} | {variant} | {role}"
        target = SEARCH_MS if variant.startswith("search") else PAGE_MS
        results[key] = {
            "page": page,
            "variant": variant,
            "role": role,
            "path": path,
            "ms": summary(times),
            "queries": len(queries),
            "queries_small_fleet": (small_counts or {}).get(key),
            "target_ms": target,
            "slowest_query": slowest,
        }
        log(f"console {key}: {median(times):.0f} ms, {len(queries)} queries (slowest {slowest['ms']:.0f} ms)")
    return results
