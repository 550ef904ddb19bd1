"""``make bench``: every benchmark of ISSUE 6 in one run, a table on stdout and the same as JSON in artifacts/.

    .venv/bin/python -m bench.run [--rounds 5] [--only serving,ingest,lists,dashboard,alerts,console,faults]
        [--quick] [--capacity] [--reuse]

Needs PostgreSQL and Redis on this machine (started when they are down) and wrk. It drops and recreates
the database ``zwadmin_bench`` (``BENCH_DATABASE_URL``) and flushes Redis database 15 (``BENCH_REDIS_URL``):
give each person's runs their own (bench/common.py).
Every figure is the median of ``--rounds`` rounds, each measured back to back with its baseline (order
alternating), and is reported as a ratio against that baseline; see docs/performance.md. A full run (every
section, not ``--quick``) also writes its table into docs/performance.md, between the results markers, so the
published figures are always those of the last full run, never a copy made by hand. ``--capacity`` adds the
capacity of one node (bench/serving.py: about an hour of 5-minute fleet runs) and writes its own block there.
The console section (bench/console.py: every console list page on 20,000 customers, 10,000,000 reports and
5,000,000 users) writes its own block too, whenever it runs in full; ``--reuse`` keeps a bench database that
already holds that fleet (its generation takes about ten minutes) instead of recreating it.
"""

import argparse
import atexit
import datetime
import json
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

from . import serving
from .common import (
    PROJECT_DIR,
    bench_urls,
    configure_environment,
    database_exists,
    ensure_services,
    flush_redis,
    log,
    machine,
    recreate_database,
)

SECTIONS = ("serving", "ingest", "lists", "dashboard", "alerts", "console", "faults")

# Where a full run publishes its table: between these two lines of docs/performance.md, replacing what is there.
DOCS_RESULTS = PROJECT_DIR / "docs" / "performance.md"
RESULTS_BEGIN = "<!-- bench:results:begin -->"
RESULTS_END = "<!-- bench:results:end -->"
CAPACITY_BEGIN = "<!-- bench:capacity:begin -->"
CAPACITY_END = "<!-- bench:capacity:end -->"
CONSOLE_BEGIN = "<!-- bench:console:begin -->"
CONSOLE_END = "<!-- bench:console:end -->"

TARGETS = {
    **serving.TARGETS,  # the lookup under granian against gunicorn and against the constant view; its p99
    "ingest_ratio": 2.0,  # ≤ 2 × raw COPY + INSERT … ON CONFLICT, at 10,000, 30,000 and 50,000
    "ingest_target_sizes": (10_000, 30_000, 50_000),
    "memory_mb": 300,  # peak RSS of the worker during the 50,000-user commit
    "list_ms": 50,
    "dashboard_ms": 300,
    "alerts_ms": 1000,  # one evaluation of every alert rule (bench/alerts.py)
    "console_ms": 300,  # a console list page, default order or one filter (bench/console.py)
    "console_search_ms": 500,  # a console list page with a search
}


def setup_django(static_root: Path) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    log("migrating the bench database, collecting static files")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="rounds per figure (at least 5 for a real run)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--quick", action="store_true", help="small sizes, for trying the bench itself out")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "artifacts", help="where the JSON goes")
    parser.add_argument(
        "--capacity",
        action="store_true",
        help="also search the largest fleet one node serves (bench/serving.py): 5-minute runs, about an hour",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the bench database if it exists (the console's fleet, generated once), migrating it",
    )
    parser.add_argument("--capacity-users", type=int, default=1000, help="users per simulated server")
    parser.add_argument("--capacity-interval", type=float, default=60, help="seconds between a server's reports")
    parser.add_argument("--capacity-minutes", type=float, default=5, help="length of each fleet run")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    database_url, redis_url = bench_urls()
    sys.path.insert(0, str(PROJECT_DIR))
    ensure_services(database_url, redis_url)
    if not (args.reuse and database_exists(database_url)):
        recreate_database(database_url)
    flush_redis(redis_url)
    static_root = Path(tempfile.mkdtemp(prefix="zwadmin-bench-static-"))
    atexit.register(shutil.rmtree, static_root, ignore_errors=True)
    configure_environment(database_url, redis_url, static_root)
    setup_django(static_root)

    from . import alerts, console, faults, ingest, pages

    report: dict = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "rounds": args.rounds,
        "quick": args.quick,
        "targets": {k: list(v) if isinstance(v, tuple) else v for k, v in TARGETS.items()},
        "results": {},
    }
    log(f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores")
    results = report["results"]
    if "serving" in sections:
        commit_users = 3_000 if args.quick else serving.COMMIT_USERS
        seconds = 1 if args.quick else args.seconds
        results["serving"] = serving.run(rounds=args.rounds, seconds=seconds, commit_users=commit_users)
    if "ingest" in sections:
        sizes = (1_000, 5_000) if args.quick else (1_000, 10_000, 30_000, 50_000)
        results["ingest"] = ingest.run(rounds=args.rounds, sizes=sizes, database_url=database_url)
    small_fleet_queries = None
    if "dashboard" in sections:
        small_fleet_queries = pages.dashboard_queries()
    small_alert_queries = alerts.small_fleet_queries() if "alerts" in sections else None
    small_console_queries = None
    if "console" in sections:
        log("console: the pages' queries on a small fleet (a database of its own)")
        small_console_queries = console.small_fleet_query_counts(database_url)
    if "lists" in sections or "dashboard" in sections:
        log("lists: generating 50,000 users of one customer (and of 4 others) in SQL")
        pages.generate_lists_data()
    if "lists" in sections:
        results["lists"] = pages.run_lists(rounds=args.rounds)
    if "dashboard" in sections:
        if args.quick:
            pages.CUSTOMERS, pages.REPORTS = 500, 100_000
        log(f"dashboard: generating {pages.CUSTOMERS:,} customers and {pages.REPORTS:,} reports in SQL")
        pages.generate_fleet_data()
        results["dashboard"] = pages.run_dashboard(rounds=args.rounds, small_fleet_queries=small_fleet_queries)
    if "alerts" in sections:
        if args.quick:
            pages.CUSTOMERS, pages.REPORTS = 500, 100_000
        results["alerts"] = alerts.run(rounds=args.rounds, small=small_alert_queries)
    if "console" in sections:
        if args.quick:
            console.scale_down()
        console.generate_console_data()
        results["console"] = console.run(rounds=args.rounds, small_counts=small_console_queries)
    if "faults" in sections:
        results["faults"] = faults.run()
    if args.capacity:
        results["capacity"] = serving.capacity(
            users=args.capacity_users,
            interval=args.capacity_interval,
            minutes=args.capacity_minutes,
            concurrency=8,
            start=100,
            limit=3200,
        )
    report["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")

    rows = table_rows(results)
    report["table"] = rows
    text = render(report, rows)
    if "capacity" in results:
        text += "\n\n" + capacity_line(results["capacity"])
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "bench-latest.json"):
        (args.output / name).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    log(f"written to {args.output / f'bench-{stamp}.json'} (and bench-latest.json)")
    docs = DOCS_RESULTS.relative_to(PROJECT_DIR)
    if args.quick or set(sections) != set(SECTIONS):
        log(f"{docs} left as it was: only a full run (every section, not --quick) publishes its results there")
    else:
        command = command_line(argv, under_make="MAKELEVEL" in os.environ)
        others = [r for r in rows if not r["figure"].startswith("console")]  # the console has its own block
        DOCS_RESULTS.write_text(replace_results(DOCS_RESULTS.read_text(), results_block(report, others, command)))
        log(f"results written into {docs}: commit them")
    if "console" in results and not args.quick:
        block = results_block(
            report,
            [r for r in rows if r["figure"].startswith("console")],
            command_line(argv, under_make="MAKELEVEL" in os.environ),
        )
        DOCS_RESULTS.write_text(replace_results(DOCS_RESULTS.read_text(), block, CONSOLE_BEGIN, CONSOLE_END))
        log(f"console pages written into {docs}: commit them")
    if "capacity" in results:
        block = f"Written by `{command_line(argv, under_make='MAKELEVEL' in os.environ)}` on {report['started'][:10]}: "
        block += capacity_line(results["capacity"])
        DOCS_RESULTS.write_text(replace_results(DOCS_RESULTS.read_text(), block, CAPACITY_BEGIN, CAPACITY_END))
        log(f"capacity written into {docs}: commit it")
    return 0


# --- the table ----------------------------------------------------------------------------------------------


# Why a figure can miss its target: printed under the table for every missed one.
WHY = {
    "ingest": "the HTTP side also reads and percent-decodes the form, parses the JSON, checks every record in "
    "Python and writes the COPY from Python tuples; the raw side starts from ready tuples",
    "memory": "the batch is held several times at its peak: the body, the decoded JSON and the cleaned rows",
    "list": "the page reads rows no index orders: all of the customer's rows are read and the top ones sorted",
    "list-noindex": "no index on this figure: the customer's 50,000 rows are read and the top ones sorted; an index "
    "per figure would slow the update of every row of every batch",
    "dashboard": "the slowest query and its plan are in the JSON (results.dashboard.slowest_queries)",
    "queries": "the dashboard's query count grows with the fleet: a query per row somewhere",
    "console": "the slowest query and its plan are in the JSON (results.console[…].slowest_query)",
    "console-queries": "the page's query count grows with the fleet: a query per row somewhere",
}


def _row(figure, candidate, baseline, ratio, target, met, *, unit="", baseline_name="", why=""):
    return {
        "figure": figure,
        "candidate": candidate,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": ratio,
        "unit": unit,
        "target": target,
        "met": met,  # True, False, or None (reported, no target)
        "why": why,  # what makes it miss, when it does
    }


# The two commits of each ingest round (bench/ingest.py): new rows, then the same rows with changed figures.
INGEST_MODES = {"new": "new rows", "update": "all present, changed"}


def table_rows(results: dict) -> list[dict]:
    rows = []
    if "serving" in results:
        rows += serving.table_rows(results["serving"], _row)
    ingest = results.get("ingest", {})
    for size, entry in ingest.get("sizes", {}).items():
        for mode in INGEST_MODES:
            e = entry[mode]
            has_target = int(size) in TARGETS["ingest_target_sizes"]
            rows.append(
                _row(
                    f"ingest {int(size):,} users, {INGEST_MODES[mode]}",
                    e["candidate_s"]["median"],
                    e["baseline_s"]["median"],
                    e["ratio"],
                    f"≤ {TARGETS['ingest_ratio']}×" if has_target else "",
                    (e["ratio"] <= TARGETS["ingest_ratio"]) if has_target else None,
                    unit="s",
                    baseline_name="raw psycopg COPY + upsert",
                    why=WHY["ingest"],
                )
            )
            rows.append(
                _row(
                    f"  rows/s ({mode})",
                    e["candidate_rows_per_s"],
                    e["baseline_rows_per_s"],
                    e["candidate_rows_per_s"] / e["baseline_rows_per_s"],
                    "",
                    None,
                    unit="rows/s",
                )
            )
    if ingest.get("memory"):
        memory = ingest["memory"]
        peak = memory["peak_rss_mb"]["max"]
        rows.append(
            _row(
                "worker peak RSS, 50,000-user commit",
                peak,
                memory["idle_rss_mb"],
                peak / memory["idle_rss_mb"],
                f"< {TARGETS['memory_mb']} MB",
                peak < TARGETS["memory_mb"],
                unit="MB",
                baseline_name="same worker, idle",
                why=WHY["memory"],
            )
        )
    groups = ingest.get("groups")
    if groups:
        for mode in INGEST_MODES:
            e = groups[mode]
            rows.append(
                _row(
                    f"ingest {groups['size']:,} groups, {INGEST_MODES[mode]}",
                    e["candidate_s"]["median"],
                    e["baseline_s"]["median"],
                    e["ratio"],
                    "",
                    None,
                    unit="s",
                    baseline_name="same, without the groups' search indexes",
                )
            )
    for name, r in results.get("lists", {}).items():
        c, b = r["candidate_ms"]["median"], r["baseline_ms"]["median"]
        # The targets are the first page and the filtered, ordered pages the indexes serve; a sort on a figure
        # without an index is shown for what it costs, without a target (docs/performance.md).
        targeted = "no index" not in name
        rows.append(
            _row(
                f"/user/list 50,000 users: {name}",
                c,
                b,
                c / b,
                f"≤ {TARGETS['list_ms']} ms" if targeted else "",
                c <= TARGETS["list_ms"] if targeted else None,
                unit="ms",
                baseline_name="same page, 10-user customer",
                why=WHY["list-noindex" if "no index" in name else "list"],
            )
        )
    if "dashboard" in results:
        r = results["dashboard"]
        c, b = r["candidate_ms"]["median"], r["baseline_ms"]["median"]
        rows.append(
            _row(
                "admin index (fleet dashboard)",
                c,
                b,
                c / b,
                f"≤ {TARGETS['dashboard_ms']} ms",
                c <= TARGETS["dashboard_ms"],
                unit="ms",
                baseline_name="admin password page",
                why=WHY["dashboard"],
            )
        )
        small = r["queries_small_fleet"]
        rows.append(
            _row(
                "  queries (5,000 customers vs 1)",
                r["queries"],
                small,
                (r["queries"] / small) if small else None,
                "constant",
                small is not None and r["queries"] == small,
                baseline_name="same page, fleet of 1 customer",
                why=WHY["queries"],
            )
        )
    if "alerts" in results:
        from . import alerts

        rows += alerts.rows(results["alerts"], _row, target_ms=TARGETS["alerts_ms"])
    for r in results.get("console", {}).values():
        ms, queries, small = r["ms"]["median"], r["queries"], r["queries_small_fleet"]
        # Not more queries than on a fleet of six customers: the big fleet may make fewer (an estimate instead of
        # a count; a search that finds nothing skips the page's rows), never one per row.
        constant = small is not None and queries <= small
        fast = ms <= r["target_ms"]
        rows.append(
            _row(
                f"console {r['page']}: {r['variant']} ({r['role']})",
                ms,
                queries,
                None,
                f"≤ {r['target_ms']} ms, queries ≤ small fleet",
                fast and constant,
                unit="ms",
                baseline_name=f"queries (small fleet: {small if small is not None else '—'})",
                why=WHY["console"] if not fast else WHY["console-queries"],
            )
        )
    if "faults" in results:
        from . import faults

        rows += faults.rows(results["faults"], _row)
    return rows


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "rows/s":
        return f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if unit == "s":
        return f"{value:.3f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def render(report: dict, rows: list[dict]) -> str:
    m = report["machine"]
    header = (
        f"zwadmin bench — {report['started']} — {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}; median of {report['rounds']} interleaved rounds"
        + (" (QUICK: small sizes, not a real run)" if report["quick"] else "")
    )
    return "\n".join([header, "", *table_lines(rows)])


def table_lines(rows: list[dict]) -> list[str]:
    """The results table (Markdown) and the verdict under it: what a run prints and what it publishes."""
    lines = [
        "| figure | unit | zwadmin | baseline | baseline is | ratio | target | result |",
        "| --- | --- | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for r in rows:
        result = {True: "met", False: "MISSED", None: ""}[r["met"]]
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—"
        lines.append(
            f"| {r['figure']} | {r['unit']} | {_fmt(r['candidate'], r['unit'])} | {_fmt(r['baseline'], r['unit'])} "
            f"| {r['baseline_name']} | {ratio} | {r['target']} | {result} |"
        )
    missed = [r for r in rows if r["met"] is False]
    lines.append("")
    if not missed:
        lines.append("Every target met.")
    for r in missed:
        lines.append(f"MISSED {r['figure'].strip()}: {_shortfall(r)}; why: {r['why']}.")
    return lines


def capacity_line(capacity: dict) -> str:
    """One node's capacity as the bench states it (bench/serving.py, ``capacity``)."""
    fleet = (
        f"{capacity['servers']:,} servers × {capacity['users_per_server']:,} users per server × "
        f"{capacity['reports_per_hour']:g} reports per hour ({capacity['users_per_hour']:,.0f} user records an hour)"
    )
    if capacity["servers"] == 0:
        smallest = capacity["trials"][0]["servers"]
        return f"Capacity of one node: not even the smallest fleet tried passed ({smallest} servers)."
    more = " (the search's upper limit: it may serve more)" if capacity["limit_reached"] else ""
    return (
        f"Capacity of one node: {fleet}{more}, driven by simulate_fleet for {capacity['minutes']:g} minutes with "
        f"every commit answered, p99 under 2 s and every report on schedule; the load generator shares the machine."
    )


def command_line(argv: list[str], *, under_make: bool) -> str:
    """How the run was started, as someone would type it again."""
    args = shlex.join(argv)
    if under_make:
        return f'make bench BENCH_ARGS="{args}"' if args else "make bench"
    return f"python -m bench.run {args}".rstrip()


def results_block(report: dict, rows: list[dict], command: str) -> str:
    """What docs/performance.md shows of a run: when, where and how it was made, then the printed table."""
    m = report["machine"]
    header = (
        f"Written by `{command}` on {report['started'][:10]}: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']}; median of {report['rounds']} interleaved rounds."
    )
    return "\n".join([header, "", *table_lines(rows)])


def replace_results(text: str, block: str, begin: str = RESULTS_BEGIN, end_marker: str = RESULTS_END) -> str:
    """``text`` with everything between the ``begin`` and ``end_marker`` markers replaced by ``block``; they stay."""
    if text.count(begin) != 1 or text.count(end_marker) != 1:
        raise ValueError(f"expected one {begin} and one {end_marker}")
    start = text.index(begin) + len(begin)
    end = text.index(end_marker)
    if end < start:
        raise ValueError(f"{end_marker} comes before {begin}")
    return f"{text[:start]}\n{block}\n{text[end:]}"


def _shortfall(row: dict) -> str:
    """By how much a row misses its target, in the target's own terms."""
    target = row["target"]
    if target.startswith("≥") and target.endswith("×"):
        goal = float(target[1:-1])
        return f"{row['ratio']:.2f}× for {target}, {(1 - row['ratio'] / goal):.0%} short"
    if target.startswith("≤") and target.endswith("×"):
        goal = float(target[1:-1])
        return f"{row['ratio']:.2f}× for {target}, {(row['ratio'] / goal - 1):.0%} over"
    if (
        target.startswith(("≤", "<"))
        and row["figure"].startswith("console")
        and row["candidate"] <= float(target[1:].split()[0])
    ):
        return f"{row['baseline']} queries, {row['baseline_name']}"
    if target.startswith(("≤", "<")):
        goal = float(target[1:].split()[0])
        over = row["candidate"] / goal - 1
        return f"{_fmt(row['candidate'], row['unit'])} {row['unit']} for {target}, {over:.0%} over"
    return f"{row['candidate']} against {row['baseline']} ({target})"


if __name__ == "__main__":
    sys.exit(main())
