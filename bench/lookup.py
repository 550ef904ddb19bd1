"""The lookup and its baseline, the constant view, as wrk measures them (bench/serving.py runs them).

``/api/customer/info?code=0513001`` (a cache hit) against ``/bench/constant`` (bench/urls.py: a fixed
``JsonResponse`` of the same shape and size, behind the same URL patterns and the whole middleware chain).
"""

import re
import subprocess

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
        # read errors are how wrk counts gunicorn's sync workers closing each connection after its answer: not errors
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
