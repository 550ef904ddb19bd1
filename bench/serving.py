"""Serving: the same app and database under granian (production) and under gunicorn (its former setup), side by side.

Two nodes run at once on this machine, each idle while the other is measured:

- granian as production runs it (``python -m zwadmin.serve``: a worker per core, the request log, the machine
  paths' short way through Django);
- gunicorn as production ran it until this change (``bench/gunicorn.conf.py``: 2 × CPUs + 1 sync workers, its JSON
  access log), serving Django as it was: every request through the whole middleware chain.

Every round measures, in alternating order, wrk against the lookup (a cache hit) and against the constant view
(``/bench/constant``, a fixed ``JsonResponse`` behind the whole middleware chain) on each node, at 16 and at 64
connections; then one 30,000-user commit (form-encoded POST, new rows) to each node. A third node, granian with
the whole middleware chain, measures the lookup only: what the machine paths' short way through Django
(zwadmin/machine.py) adds to the server's own gain. The table shows each figure side by side; the targets are
granian's lookup against gunicorn's and against granian's own constant view.

``--capacity`` adds what one granian node sustains: ``capacity()`` below.
"""

import io
import shutil
import time
from contextlib import ExitStack

import orjson

from . import ingest, lookup
from .common import SERVERS, log, median, start_node, summary

CONNECTIONS = (16, 64)
PATHS = {"lookup": lookup.LOOKUP_PATH, "constant": lookup.CONSTANT_PATH}
WHOLE_CHAIN = "granian, whole chain"  # granian without the machine paths' short way: the lookup only
COMMIT_USERS = 30_000

TARGETS = {
    "lookup_vs_gunicorn": 3.0,  # granian's lookup requests/s ≥ 3 × gunicorn's, at 64 connections
    "lookup_vs_constant": 1.0,  # granian's lookup requests/s ≥ 1 × granian's constant view, at 64 connections
    "lookup_p99_ms": 40,  # granian's lookup p99 at 64 connections
}
TARGET_CONNECTIONS = 64

WHY = {
    "vs_gunicorn": "both nodes share two cores with wrk and with each other's idle workers; a busy machine "
    "compresses every ratio toward 1 (see the rounds in the JSON)",
    "vs_constant": "the lookup reads Redis's invalidations (one non-blocking socket read) and its answer; the "
    "constant view pays the console's middleware instead",
    "p99": "at 64 connections on two cores, a request waits for the others' turns on the CPU; wrk itself takes one",
}


def _empty_users() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE telemetry_imuser")


def run(*, rounds: int, seconds: float, commit_users: int = COMMIT_USERS) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench installs it when it runs as root)")
    lookup.prepare()
    body = ingest.form_body(ingest.records(commit_users, seed=1))
    results: dict = {"servers": list(SERVERS), "commit_users": commit_users}
    with ExitStack() as stack:
        nodes = {server: start_node(stack, server=server) for server in SERVERS}
        nodes[WHOLE_CHAIN] = start_node(stack, server="granian", full_middleware=True)
        for server, node in nodes.items():
            status, answer = node.request("GET", lookup.LOOKUP_PATH)
            if status != 200:
                raise RuntimeError(f"{server}: the lookup answered {status}: {answer[:200]!r}")
            results.setdefault("workers", {})[server] = len(node.worker_pids())
        for connections in CONNECTIONS:
            runs = [(server, name) for server in SERVERS for name in PATHS] + [(WHOLE_CHAIN, "lookup")]
            log(f"serving: {rounds} rounds × {len(runs)} × {seconds}s at {connections} connections")
            for server, name in runs:  # a short warm-up of every path at this concurrency
                lookup.wrk(nodes[server].url + PATHS[name], connections, 1)
            measured: dict = {run: [] for run in runs}
            for index in range(rounds):
                for server, name in runs if index % 2 == 0 else runs[::-1]:
                    measured[server, name].append(lookup.wrk(nodes[server].url + PATHS[name], connections, seconds))
            results[connections] = {
                name: {
                    server: {
                        key: summary([r[key] for r in measured[server, name]]) for key in ("rps", "p50_ms", "p99_ms")
                    }
                    for server, measured_name in runs
                    if measured_name == name
                }
                for name in PATHS
            }
            figures = results[connections]
            log(
                f"serving c={connections}: lookup "
                + ", ".join(f"{s} {figures['lookup'][s]['rps']['median']:,.0f}" for s in SERVERS)
                + " req/s; constant "
                + ", ".join(f"{s} {figures['constant'][s]['rps']['median']:,.0f}" for s in SERVERS)
                + " req/s"
            )
        log(f"serving: {rounds} rounds of a {commit_users:,}-user commit ({len(body) / 1e6:.1f} MB) to each server")
        commits: dict = {server: [] for server in SERVERS}
        for index in range(rounds):
            for server in SERVERS if index % 2 == 0 else SERVERS[::-1]:
                _empty_users()
                start = time.perf_counter()
                status, answer = nodes[server].request("POST", "/api/user/commit", body, ingest.FORM)
                commits[server].append(time.perf_counter() - start)
                if status != 200 or orjson.loads(answer)["accepted"] != commit_users:
                    raise RuntimeError(f"{server}: the commit answered {status}: {answer[:300]!r}")
        results["commit_s"] = {server: summary(commits[server]) for server in SERVERS}
        log(f"serving commit of {commit_users:,}: " + ", ".join(f"{s} {median(commits[s]):.2f}s" for s in SERVERS))
    return results


def table_rows(results: dict, row) -> list[dict]:
    """The side-by-side rows of ``results`` for bench/run.py's table; ``row`` is its row constructor."""
    rows = []

    def add(figure, candidate, baseline, baseline_name, *, target="", met=None, unit="", why=""):
        rows.append(
            row(
                figure,
                candidate,
                baseline,
                candidate / baseline,
                target,
                met,
                unit=unit,
                baseline_name=baseline_name,
                why=why,
            )
        )

    before = "gunicorn, former setup"
    for connections in CONNECTIONS:
        figures = results.get(connections) or results.get(str(connections))
        if not figures:
            continue
        targeted = connections == TARGET_CONNECTIONS
        look, const = figures["lookup"], figures["constant"]
        lookup_rps = look["granian"]["rps"]["median"]
        constant_rps = const["granian"]["rps"]["median"]
        p99 = look["granian"]["p99_ms"]["median"]
        vs_gunicorn = lookup_rps / look["gunicorn"]["rps"]["median"]
        goal, goal_constant, goal_p99 = (
            TARGETS[k] for k in ("lookup_vs_gunicorn", "lookup_vs_constant", "lookup_p99_ms")
        )
        add(
            f"lookup c={connections} req/s, granian vs gunicorn",
            lookup_rps,
            look["gunicorn"]["rps"]["median"],
            before,
            target=f"≥ {goal}×" if targeted else "",
            met=vs_gunicorn >= goal if targeted else None,
            why=WHY["vs_gunicorn"],
        )
        if WHOLE_CHAIN in look:
            whole = look[WHOLE_CHAIN]["rps"]["median"]
            add(
                f"  lookup c={connections}: short way vs whole chain, granian",
                lookup_rps,
                whole,
                "granian, whole chain",
            )
        add(
            f"  lookup vs constant view, granian c={connections}",
            lookup_rps,
            constant_rps,
            "granian, constant JsonResponse",
            target=f"≥ {goal_constant}×" if targeted else "",
            met=lookup_rps / constant_rps >= goal_constant if targeted else None,
            why=WHY["vs_constant"],
        )
        add(
            f"  lookup p99 c={connections}",
            p99,
            look["gunicorn"]["p99_ms"]["median"],
            before,
            target=f"≤ {goal_p99} ms" if targeted else "",
            met=p99 <= goal_p99 if targeted else None,
            unit="ms",
            why=WHY["p99"],
        )
        add(f"  constant view c={connections} req/s", constant_rps, const["gunicorn"]["rps"]["median"], before)
    if "commit_s" in results:
        seconds = results["commit_s"]
        add(
            f"commit of {results['commit_users']:,} users, granian vs gunicorn",
            seconds["granian"]["median"],
            seconds["gunicorn"]["median"],
            before,
            unit="s",
        )
    return rows


# --- capacity ---------------------------------------------------------------------------------------------------


def capacity(*, users: int, interval: float, minutes: float, concurrency: int, start: int, limit: int) -> dict:
    """The largest fleet one granian node serves: ``servers`` × ``users`` per server, each reporting every
    ``interval`` seconds, driven by ``simulate_fleet`` for ``minutes`` minutes with every commit answered (no
    error, no refusal), its p99 under 2 s, and the reports sent on schedule.

    A bounded search over the number of servers: doubling from ``start`` until a fleet fails (or ``limit``),
    then halving the gap between the largest fleet that passed and the smallest that failed, to within 10 %.
    Each step is one full run of ``minutes`` minutes.
    """
    from django.core.management import call_command

    from telemetry.management.commands.simulate_fleet import Command

    trials: list[dict] = []

    def trial(servers: int) -> bool:
        log(f"capacity: {servers} servers × {users} users every {interval:g} s, for {minutes:g} min")
        _empty_users()
        command, out = Command(), io.StringIO()
        with ExitStack() as stack:
            node = start_node(stack, server="granian")
            call_command(
                command,
                url=node.url,
                servers=servers,
                users=users,
                interval=interval,
                duration=minutes * 60,
                concurrency=concurrency,
                register=True,
                code_prefix="0588",
                stdout=out,
            )
        summary_ = command.summary
        # What simulate_fleet schedules: each server's first report spread over one interval, then one per interval.
        duration = minutes * 60
        scheduled = sum(
            int((duration - interval * index / servers) // interval) + 1
            for index in range(servers)
            if interval * index / servers < duration
        )
        p99 = max(e["p99_ms"] or 0 for e in summary_["endpoints"].values())
        failed = sum(e["errors"] + e["refused"] for e in summary_["endpoints"].values())
        on_schedule = summary_["reports"] >= 0.95 * scheduled
        passed = not failed and p99 < 2000 and on_schedule
        trials.append(
            {
                "servers": servers,
                "passed": passed,
                "p99_ms": p99,
                "failed": failed,
                "reports": summary_["reports"],
                "scheduled": scheduled,
                "summary": summary_,
            }
        )
        log(
            f"capacity: {servers} servers: {'passed' if passed else 'FAILED'} (p99 {p99:.0f} ms, {failed} failed, "
            f"{summary_['reports']} of {scheduled} reports)"
        )
        return passed

    best, worst = 0, None
    servers = start
    while servers <= limit and trial(servers):
        best, servers = servers, servers * 2
    worst = servers if servers <= limit else None
    while worst is not None and worst - best > max(1, best // 10):
        middle = (best + worst) // 2
        if trial(middle):
            best = middle
        else:
            worst = middle
    reports_per_hour = 3600 / interval
    return {
        "servers": best,
        "users_per_server": users,
        "reports_per_hour": reports_per_hour,
        "users_per_hour": best * users * reports_per_hour,
        "minutes": minutes,
        "limit_reached": worst is None,
        "trials": trials,
    }
