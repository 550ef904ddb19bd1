"""The console's list pages at fleet scale: server time and query count of every list page, in process.

The fleet is the benchmark's raised to what one node ingests (docs/performance.md): 20,000 customers,
10,000,000 server reports over 400 days, 5,000,000 IM users, 500,000 groups, 1,000,000 server changes,
and alerts and outbox messages beside them. It is generated in SQL (``INSERT … SELECT generate_series``)
once: a database that already holds it (``--reuse``, bench/run.py) is only migrated and measured again,
since generating it takes a quarter of an hour on a small machine.

Each page is requested through Django's test client (the whole stack, no network) by a superuser and by a
support user (console/roles.py), with its default order, with a filter and with a search; its query count is
compared with the same page's on a fleet of a few customers (``small_fleet_queries``): it must not grow.
"""

import time

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

SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏飞云辉建国志宇浩然子轩欣怡梓涵思远"


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
    _execute(sql, params)
    log(f"console: {what} in {time.perf_counter() - start:.0f} s")
    _execute(f"ANALYZE {table}")


def generate_console_data() -> None:
    """The fleet at the console's scale (see the module's docstring); what is there already is kept."""
    from . import pages

    if _estimate("telemetry_imuser") < 250_000:
        pages.generate_lists_data()  # six customers "0513…", one with 50,000 users (the /user/list bench)
    pages.CUSTOMERS, pages.REPORTS, pages.REPORT_DAYS = CUSTOMERS, REPORTS, DAYS
    if _estimate("telemetry_serverreport") < REPORTS * 0.9:
        pages.generate_fleet_data()  # customers, their statuses, the reports, 300 unregistered servers
    _step(
        "telemetry_imuser",
        USERS,
        f"{USERS - 250_010:,} IM users",
        f"""
        INSERT INTO telemetry_imuser (customer_id, uuid, nickname, onlinetime, andtimes, pctimes, iostimes,
            fmsgs, tmsgs, first_reported_at, last_reported_at)
        SELECT c.id, md5(c.code || ':' || g::text)::uuid::text,
            substr(%(surnames)s, 1 + (c.n * 7 + g * 13) %% {len(SURNAMES)}, 1)
                || substr(%(given)s, 1 + (c.n * 3 + g * 31) %% {len(GIVEN)}, 1)
                || CASE WHEN g %% 3 = 0 THEN '' ELSE substr(%(given)s, 1 + (c.n + g * 17) %% {len(GIVEN)}, 1) END,
            (g::bigint * 7919) %% 100000, (g::bigint * 104729) %% 50000, (g::bigint * 1299709) %% 50000,
            (g::bigint * 15485863) %% 50000, (g::bigint * 179424673 + c.n) %% 100000,
            (g::bigint * 32452843) %% 100000,
            now() - make_interval(days => (g + c.n) %% {DAYS}), now() - make_interval(mins => (g * 7 + c.n) %% 20000)
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
        SELECT c.id, 'g' || g, substr(%(surnames)s, 1 + g %% {len(SURNAMES)}, 1) || '组' || g, 'u' || g,
            substr(%(surnames)s, 1 + (g * 7) %% {len(SURNAMES)}, 1) || substr(%(given)s, 1 + g %% {len(GIVEN)}, 1),
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
        SELECT r.ids[1 + g %% r.n], c.ids[1 + (g * 7) %% c.n], '', 'customer', '{{}}'::jsonb,
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
    )
    _execute(
        "UPDATE alerts_alert a SET code = c.code FROM customers_customer c WHERE a.code = '' AND c.id = a.customer_id"
    )
    _step(
        "alerts_outboxmessage",
        MESSAGES,
        f"{MESSAGES:,} outbox messages",
        f"""
        INSERT INTO alerts_outboxmessage (key, channel_id, alert_id, kind, title, lines, link, status, held,
            attempts, created_at, due_at, next_attempt_at, sent_at, last_error)
        SELECT md5('m' || g)::uuid, ch.ids[1 + g %% ch.n], NULL, 'opened', '告警 客户 ' || g, '[]'::jsonb, '',
            (ARRAY['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'digested', 'failed', 'pending'])[1 + g %% 10],
            false, 1, now() - make_interval(secs => g::double precision * {DAYS * 86400} / {MESSAGES}),
            now(), now(), now(), ''
        FROM (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM alerts_channel) AS ch,
            generate_series(1, {MESSAGES}) AS g
        ON CONFLICT DO NOTHING
        """,
    )
    _execute("VACUUM ANALYZE")


def _timed(client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed * 1000


__all__ = ["generate_console_data", "median", "summary"]
