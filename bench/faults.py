"""Hostile bodies (ISSUE 10): what each costs the worker that answers it, through the production server.

    .venv/bin/python -m bench.run --only faults

Each body of :func:`catalogue` is sent to a node of one worker (granian, ``python -m zwadmin.serve``), the
worker's peak RSS reset just before (``/proc/<pid>/clear_refs``) and read after (``VmHWM``), with the wall time
from the first byte sent to the last byte of the answer. Target: every peak under 300 MB, every refusal in well
under a second. ``tests/test_faults_bodies.py`` sends the same bodies and asserts the answers and stored rows.
"""

import socket
import time
import urllib.parse
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .common import log, start_node

MB = 1024 * 1024
CODE = "0513001"
FIGURES = ("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs")
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MEMORY_TARGET_MB = 300
REFUSAL_TARGET_S = 1.0


def user(index: int, **changes) -> dict:
    return {"code": CODE, "uuid": f"u{index}", "nickname": f"用户{index}", **dict.fromkeys(FIGURES, 1), **changes}


def zeros(size: int) -> bytes:
    """``[0,0,…]`` of ``size`` bytes: the body that took a worker to 3.6 GB."""
    return b"[" + b"0," * (size // 2 - 1) + b"0]"


def junk_records(count: int) -> bytes:
    """``count`` records each of whose fields breaks its rule: every one rejected with nine reasons."""
    record = {"code": 513001, "uuid": [], "nickname": 1, **dict.fromkeys(FIGURES, -1)}
    return orjson.dumps([record] * count)


def wide_users(count: int, size: int) -> bytes:
    """``count`` valid users padded with a field the document does not name, to ``size`` bytes in all."""
    padding = "x" * max(size // count - 150, 0)
    return orjson.dumps([user(index, note=padding) for index in range(count)])


def wide_users_form(count: int, size: int) -> bytes:
    """``count`` valid users padded with Chinese text, form-encoded (each character 9 bytes), to ``size`` bytes."""
    padding = "用" * max((size // count - 250) // 9, 0)
    records = orjson.dumps([user(index, note=padding) for index in range(count)]).decode()
    return urllib.parse.urlencode({"data": records}).encode()


@dataclass
class Hostile:
    name: str
    path: str
    body: bytes
    headers: dict = field(default_factory=dict)
    chunked: bool = False  # sent Transfer-Encoding: chunked, without Content-Length
    refused: bool = True  # a refusal (4xx): it must come in well under a second


def catalogue(token: str = "") -> list[Hostile]:
    """The hostile bodies of ISSUE 10, and the largest bodies the limits admit. ``token``: a staff token."""
    deep = b"[" * 100_000
    staff = {"Authorization": f"Token {token}", **JSON}
    return [
        Hostile("[0,0,…] 30 MB to /api/user/commit", "/api/user/commit", zeros(30 * MB), JSON),
        Hostile("2 MB of junk records ({},{},…)", "/api/user/commit", b"[" + b"{}," * (2 * MB // 3) + b"{}]", JSON),
        Hostile(
            "50,000 junk records (the most a batch holds)",
            "/api/user/commit",
            junk_records(50_000),
            JSON,
            refused=False,
        ),
        Hostile(
            "50,000 users padded to 30 MB (the largest admitted)",
            "/api/user/commit",
            wide_users(50_000, 30 * MB),
            JSON,
            refused=False,
        ),
        Hostile(
            "50,000 users padded with Chinese, form-encoded to 30 MB",
            "/api/user/commit",
            wide_users_form(50_000, 30 * MB),
            FORM,
            refused=False,
        ),
        *(Hostile(f"[ × 100,000 to {path}", path, deep, JSON) for path in COMMITS),
        Hostile("[ × 100,000 to POST /api/customer/info", "/api/customer/info", deep, JSON),
        Hostile("[ × 100,000 to /customer/add (staff)", "/customer/add", deep, staff),
        Hostile("30 MB JSON to POST /api/customer/info", "/api/customer/info", orjson.dumps(["x" * (30 * MB)]), JSON),
        Hostile(
            "batch whose 2nd record holds a 5,000-digit integer",
            "/api/user/commit",
            b"[%s,%s]"
            % (orjson.dumps(user(0)), orjson.dumps(user(1)).replace(b'"fmsgs":1', b'"fmsgs":' + b"9" * 5000)),
            JSON,
            refused=False,
        ),
        Hostile(
            "chunked, no Content-Length", "/api/user/commit", orjson.dumps([user(0)]), JSON, chunked=True, refused=False
        ),
        Hostile("chunked, 40 MB", "/api/user/commit", zeros(40 * MB), JSON, chunked=True),
        Hostile("form of 30 MB of '%'", "/api/user/commit", b"data=" + b"%" * (30 * MB), FORM),
        Hostile("form of 8 million fields", "/api/user/commit", b"&" * (8 * MB), FORM),
    ]


COMMITS = ("/api/user/commit", "/api/group/commit", "/api/server/commit")


def send(port: int, hostile: Hostile, timeout: float = 120) -> tuple[int, bytes]:
    """POST ``hostile`` over a raw socket (chunked when it says so); the status and the answer's body."""
    headers = {"Host": "127.0.0.1", "Connection": "close", "Accept-Language": "en", **hostile.headers}
    if hostile.chunked:
        headers["Transfer-Encoding"] = "chunked"
    else:
        headers["Content-Length"] = str(len(hostile.body))
    head = f"POST {hostile.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head.encode())
            if hostile.chunked:
                step = 1024 * 1024
                for start in range(0, len(hostile.body), step):
                    piece = hostile.body[start : start + step]
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sock.sendall(b"0\r\n\r\n")
            else:
                sock.sendall(hostile.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) and closed before the whole body was sent
        answer = b""
        try:
            while chunk := sock.recv(1024 * 1024):
                answer += chunk
        except ConnectionResetError:
            pass
    head, _sep, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, body


def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _sep, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM back to the current RSS (Linux ≥ 4.0)


def rss_mb(pid: int, name: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {name} for {pid}")


def measure(port: int, worker: int, hostile: Hostile) -> dict:
    """Send ``hostile`` to the node on ``port`` served by the one ``worker``; what it cost and what came back."""
    before = rss_mb(worker, "VmRSS")
    reset_peak(worker)
    started = time.perf_counter()
    status, body = send(port, hostile)
    seconds = time.perf_counter() - started
    return {
        "status": status,
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_rss_mb": rss_mb(worker),
        "rss_after_mb": rss_mb(worker, "VmRSS"),
        "answer_bytes": len(body),
        "body_bytes": len(hostile.body),
        "answer": body[:300].decode(errors="replace"),
        "answer_body": body,  # not kept in the bench's results
    }


def run(prepare: Callable[[], str] | None = None) -> dict:
    """Every body of the catalogue against one node of one worker, refusals first, then the admitted bodies from
    the smallest to the largest (a worker keeps some of what a large batch took: each peak is from the RSS the
    body found); ``prepare`` makes the customer and returns a staff token."""
    token = prepare() if prepare else _prepare()
    results: dict = {}
    with ExitStack() as stack:
        node = start_node(stack, workers=1)
        worker = node.worker_pids()[0]
        results["idle_rss_mb"] = rss_mb(worker, "VmRSS")
        ordered = sorted(catalogue(token), key=lambda hostile: (not hostile.refused, len(hostile.body)))
        for hostile in ordered:
            entry = measure(node.port, worker, hostile)
            del entry["answer_body"]
            entry["refused"] = hostile.refused
            results[hostile.name] = entry
            log(
                f"faults: {hostile.name}: {entry['status']} in {entry['seconds']:.3f} s, "
                f"peak {entry['peak_rss_mb']:.0f} MB, answer {entry['answer_bytes']:,} bytes"
            )
    return results


def _prepare() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from customers.models import Customer

    Customer.objects.get_or_create(code=CODE, defaults={"name": "江苏中威科技"})
    staff, _created = get_user_model().objects.get_or_create(
        username="bench-faults", defaults={"is_staff": True, "is_superuser": True}
    )
    return Token.objects.get_or_create(user=staff)[0].key


def rows(results: dict, row) -> list[dict]:
    out = []
    for name, entry in results.items():
        if name == "idle_rss_mb":
            continue
        peak = entry["peak_rss_mb"]
        out.append(
            row(
                f"hostile: {name} → {entry['status']}, peak RSS",
                peak,
                entry["rss_before_mb"],
                peak / entry["rss_before_mb"],
                f"< {MEMORY_TARGET_MB} MB",
                peak < MEMORY_TARGET_MB,
                unit="MB",
                baseline_name="same worker, just before",
                why=WHY,
            )
        )
        out.append(
            row(
                "  time",
                entry["seconds"],
                None,
                None,
                f"< {REFUSAL_TARGET_S:g} s" if entry["refused"] else "",
                entry["seconds"] < REFUSAL_TARGET_S if entry["refused"] else None,
                unit="s",
                why=WHY,
            )
        )
    return out


WHY = (
    "a batch's body, the text it decodes to and the objects it parses into are held at once; a worker keeps some "
    "of what an earlier large batch took (the RSS just before is the baseline); see results.faults in the JSON"
)
