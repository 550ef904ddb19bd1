"""Lookup: ``/api/customer/info`` (a cache hit) against a constant ``JsonResponse``, both served by one node.

wrk drives the node over loopback at 16 and 64 connections; each round runs the constant view and the
lookup back to back (order alternating), so both see the same machine. gunicorn runs the committed
configuration (sync workers, 2 × CPUs + 1, the JSON access log), so what is compared is exactly the cost
the lookup adds to the cheapest answer the production stack can give.
"""

import re
import shutil
import subprocess
from contextlib import ExitStack

from .common import interleaved, log, median, start_node, summary

CODE = "0513001"
LOOKUP_PATH = f"/api/customer/info?code={CODE}"
CONSTANT_PATH = "/bench/constant"
CONNECTIONS = (16, 64)

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict:
    """requests/s, p50 and p99 (ms) and the error counts of one ``wrk --latency`` run."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {}
    for percent, value, unit in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        latency[percent] = float(value) * _UNITS[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        # read errors are how wrk counts the sync worker closing each connection after its answer: not errors
        "socket_errors": sum(int(n) for i, n in enumerate(sockets.groups()) if i != 1) if sockets else 0,
    }


def wrk(url: str, connections: int, seconds: float) -> dict:
    command = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    result = parse_wrk(output)
    if result["non_2xx"]:
        raise RuntimeError(f"{url}: {result['non_2xx']} answers were not 2xx:\n{output}")
    return result


def prepare() -> None:
    """The customer the lookup asks for; its answer is cached by ``customer_create`` once committed."""
    from customers.models import Customer
    from customers.services import customer_create

    if not Customer.objects.filter(code=CODE).exists():
        customer_create(
            code=CODE,
            name="江苏中威科技",
            tcphost="61.155.85.77",
            tcpport=10003,
            webhost="61.155.85.77",
            webport=10001,
            filehost="61.155.85.77",
            fileport=10004,
            timeout="2016-09-21",
        )


def run(*, rounds: int, seconds: float) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench installs it when it runs as root)")
    prepare()
    results = {}
    with ExitStack() as stack:
        node = start_node(stack)
        status, body = node.request("GET", LOOKUP_PATH)
        if status != 200:
            raise RuntimeError(f"lookup answered {status}: {body[:200]!r}")
        for connections in CONNECTIONS:
            log(f"lookup: {rounds} rounds × {seconds}s at {connections} connections")
            # A short warm-up of both paths at this concurrency (connections, worker caches).
            wrk(node.url + CONSTANT_PATH, connections, 1)
            wrk(node.url + LOOKUP_PATH, connections, 1)
            base, cand = interleaved(
                rounds,
                lambda c=connections: wrk(node.url + CONSTANT_PATH, c, seconds),
                lambda c=connections: wrk(node.url + LOOKUP_PATH, c, seconds),
            )
            results[connections] = {
                "baseline": {key: summary([r[key] for r in base]) for key in ("rps", "p50_ms", "p99_ms")},
                "candidate": {key: summary([r[key] for r in cand]) for key in ("rps", "p50_ms", "p99_ms")},
                # The ratio of the two medians (what the table shows side by side); the median of the
                # rounds' own ratios too, for the record.
                "rps_ratio": median([r["rps"] for r in cand]) / median([r["rps"] for r in base]),
                "rps_ratio_paired": median([c["rps"] / b["rps"] for b, c in zip(base, cand, strict=True)]),
            }
            log(
                f"lookup c={connections}: {median([r['rps'] for r in cand]):.0f} req/s "
                f"vs constant {median([r['rps'] for r in base]):.0f} req/s"
            )
    return results
