"""Ingest: ``POST /api/user/commit`` end to end through HTTP, against raw psycopg doing the same upsert.

For each batch size, every round commits the batch twice on each side: once as new rows (the table
emptied first) and once more with the same uuids and changed figures (every row already present).

- candidate: the batch as a deployed server sends it (``data=<JSON array>``, form-encoded POST) to the
  production server (granian, ``python -m zwadmin.serve``) with one worker; wall time from the first byte sent
  to the last byte of the answer.
- baseline: this process, psycopg directly: ``COPY`` of the same rows (already Python tuples) into a
  temporary table and one ``INSERT … SELECT … ON CONFLICT (customer_id, uuid) DO UPDATE`` into
  ``telemetry_imuser``, committed. The floor any implementation on this database has to stand on.

Memory: the worker's peak RSS (``VmHWM``) over each 50,000-user commit; the peak is reset just before the
request (``/proc/<pid>/clear_refs``), so it is this request's peak, from a worker that has served before.

Groups: the price of the console's search indexes. ``POST /api/group/commit`` of 50,000 groups (new, then
changed) to the same node, with the groups' trigram indexes (telemetry migration 0005: what the console's group
search reads) and, as the baseline, without them (dropped for the baseline's commits, then created again).
"""

import random
import time
import urllib.parse
import uuid
from contextlib import ExitStack
from pathlib import Path

import orjson

from .common import interleaved, log, median, start_node, summary

CODE = "0513001"
FIGURES = ("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs")
NICKNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"


def records(count: int, *, seed: int) -> list[dict]:
    """``count`` users of one customer as a server reports them; ``seed`` changes the figures, not the uuids."""
    rng = random.Random(seed)
    return [
        {
            "code": CODE,
            "uuid": str(uuid.UUID(int=index + 1)),
            "nickname": f"{NICKNAMES[index % len(NICKNAMES)]}用户{index}",
            **{name: rng.randrange(0, 100_000) for name in FIGURES},
        }
        for index in range(count)
    ]


def group_records(count: int, *, seed: int) -> list[dict]:
    """``count`` groups of one customer as a server reports them; ``seed`` changes the figures, not the ids."""
    rng = random.Random(seed)
    return [
        {
            "code": CODE,
            "gid": str(uuid.UUID(int=index + 1)),
            "name": f"{NICKNAMES[index % len(NICKNAMES)]}总项目群{index}",
            "createrid": str(index % 500),
            "creatername": f"{NICKNAMES[index % len(NICKNAMES)]}用户{index % 500}",
            "ucount": rng.randrange(2, 500),
            "msgcount": rng.randrange(0, 100_000),
            "ctime": "2016-08-09",
            "fcount": rng.randrange(0, 100),
            "ncount": rng.randrange(0, 100),
        }
        for index in range(count)
    ]


def form_body(batch: list[dict]) -> bytes:
    return urllib.parse.urlencode({"data": orjson.dumps(batch).decode()}).encode()


def tuples(batch: list[dict], customer_id) -> list[tuple]:
    return [(customer_id, r["uuid"], r["nickname"], *(r[name] for name in FIGURES)) for r in batch]


_COLUMNS = "customer_id, uuid, nickname, " + ", ".join(FIGURES)
_UPDATES = ", ".join(f"{c} = EXCLUDED.{c}" for c in ("nickname", *FIGURES, "last_reported_at"))


def raw_upsert(conn, rows: list[tuple]) -> float:
    """The baseline: COPY into a temporary table, one INSERT … ON CONFLICT DO UPDATE, commit. Seconds."""
    start = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_rows (customer_id uuid, uuid varchar(64), nickname varchar(100), "
            + ", ".join(f"{name} bigint" for name in FIGURES)
            + ") ON COMMIT DROP"
        )
        with cursor.copy(f"COPY bench_rows ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO telemetry_imuser ({_COLUMNS}, first_reported_at, last_reported_at) "
            f"SELECT {_COLUMNS}, now(), now() FROM bench_rows "
            f"ON CONFLICT (customer_id, uuid) DO UPDATE SET {_UPDATES}"
        )
    return time.perf_counter() - start


def empty_table(conn) -> None:
    with conn.transaction():
        conn.execute("TRUNCATE telemetry_imuser")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def run(*, rounds: int, sizes: tuple[int, ...], database_url: str) -> dict:
    import psycopg

    from customers.models import Customer

    from . import lookup

    lookup.prepare()  # the customer 0513001
    customer_id = Customer.objects.get(code=CODE).pk
    results: dict = {"sizes": {}, "memory": None}
    conn = psycopg.connect(database_url)
    # Autovacuum would wake up on either side at random after 50,000 inserts: off for this table, in this
    # database only, so both sides pay only for their own work.
    with conn.transaction():
        conn.execute("ALTER TABLE telemetry_imuser SET (autovacuum_enabled = false)")
    with ExitStack() as stack:
        stack.callback(conn.close)
        node = start_node(stack, workers=1)
        worker = node.worker_pids()[0]
        warm = form_body(records(200, seed=0))
        for _ in range(3):
            status, body = node.request("POST", "/api/user/commit", warm, FORM)
            if status != 200:
                raise RuntimeError(f"commit answered {status}: {body[:300]!r}")
        empty_table(conn)
        idle_rss = _rss_mb(worker, "VmRSS")
        peaks: list[float] = []

        for size in sizes:
            first, second = records(size, seed=1), records(size, seed=2)
            bodies = (form_body(first), form_body(second))
            rows = (tuples(first, customer_id), tuples(second, customer_id))
            log(f"ingest: {rounds} rounds of {size:,} users ({len(bodies[0]) / 1e6:.1f} MB form-encoded)")

            def baseline(rows=rows):
                empty_table(conn)
                return raw_upsert(conn, rows[0]), raw_upsert(conn, rows[1])

            def candidate(bodies=bodies, size=size):
                empty_table(conn)
                times = []
                for body in bodies:
                    if size >= 50_000:
                        _reset_peak(worker)
                    start = time.perf_counter()
                    status, answer = node.request("POST", "/api/user/commit", body, FORM)
                    times.append(time.perf_counter() - start)
                    if status != 200 or orjson.loads(answer)["accepted"] != size:
                        raise RuntimeError(f"commit of {size} answered {status}: {answer[:300]!r}")
                    if size >= 50_000:
                        peaks.append(_rss_mb(worker, "VmHWM"))
                return tuple(times)

            base, cand = interleaved(rounds, baseline, candidate)
            entry = {}
            for position, mode in enumerate(("new", "update")):
                b, c = [r[position] for r in base], [r[position] for r in cand]
                entry[mode] = {
                    "baseline_s": summary(b),
                    "candidate_s": summary(c),
                    "ratio": median(c) / median(b),
                    "ratio_paired": median([y / x for x, y in zip(b, c, strict=True)]),
                    "candidate_rows_per_s": size / median(c),
                    "baseline_rows_per_s": size / median(b),
                }
                log(
                    f"ingest {size:,} {mode}: HTTP {median(c):.3f}s vs raw COPY {median(b):.3f}s "
                    f"({entry[mode]['ratio']:.2f}×)"
                )
            results["sizes"][size] = entry
        if peaks:
            results["memory"] = {"idle_rss_mb": idle_rss, "peak_rss_mb": summary(peaks)}
            log(f"ingest memory: peak {max(peaks):.0f} MB (idle worker {idle_rss:.0f} MB)")
        results["groups"] = _groups_search_index_price(conn, node, rounds=rounds, size=max(sizes))
    return results


def _groups_search_index_price(conn, node, *, rounds: int, size: int) -> dict | None:
    """``size`` groups committed with the groups' trigram indexes and without them (the module's docstring)."""
    from psycopg import sql

    with conn.transaction():
        conn.execute("ALTER TABLE telemetry_imgroup SET (autovacuum_enabled = false)")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'telemetry_imgroup' "
            "AND indexdef LIKE '%%gin_trgm_ops%%'"
        ).fetchall()
    if not indexes:  # no pg_trgm on this server: nothing to price
        return None
    bodies = (form_body(group_records(size, seed=1)), form_body(group_records(size, seed=2)))
    log(f"ingest: {rounds} rounds of {size:,} groups, with and without their {len(indexes)} trigram indexes")

    def commits() -> tuple[float, float]:
        times = []
        for body in bodies:
            start = time.perf_counter()
            status, answer = node.request("POST", "/api/group/commit", body, FORM)
            times.append(time.perf_counter() - start)
            if status != 200 or orjson.loads(answer)["accepted"] != size:
                raise RuntimeError(f"group commit of {size} answered {status}: {answer[:300]!r}")
        return tuple(times)

    def with_indexes():
        with conn.transaction():
            conn.execute("TRUNCATE telemetry_imgroup")
        return commits()

    def without_indexes():
        with conn.transaction():
            conn.execute("TRUNCATE telemetry_imgroup")
            for name, _definition in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        try:
            return commits()
        finally:
            with conn.transaction():
                conn.execute("TRUNCATE telemetry_imgroup")
                for _name, definition in indexes:
                    conn.execute(definition)

    base, cand = interleaved(rounds, without_indexes, with_indexes)
    entry = {"size": size, "indexes": [name for name, _definition in indexes]}
    for position, mode in enumerate(("new", "update")):
        b, c = [r[position] for r in base], [r[position] for r in cand]
        entry[mode] = {"baseline_s": summary(b), "candidate_s": summary(c), "ratio": median(c) / median(b)}
        log(f"ingest {size:,} groups {mode}: {median(c):.3f}s with the search indexes, {median(b):.3f}s without")
    return entry


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
