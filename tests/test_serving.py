"""The production server as deployed clients meet it: granian, as ``python -m zwadmin.serve`` starts it.

GET commits carry their batch in the query string (a request line of 64 KB must pass), POST batches weigh
8 MB and more, and a multi-megabyte URL must be refused at once, before it costs anything. Workers are
reloaded gracefully, replaced when they die or grow, and every request leaves one JSON line in the log.
Static files come from whitenoise with hashed names.
"""

import json
import os
import signal
import socket
import time
import urllib.parse
from contextlib import ExitStack
from http import HTTPStatus
from pathlib import Path

import orjson
import pytest
from django.conf import settings

from tests.nodes import Node, needs_postgresql, start_node

pytestmark = needs_postgresql

KB = 1024
MB = 1024 * KB


@pytest.fixture(scope="module")
def node(django_db_setup, static_root):
    with ExitStack() as stack:
        yield start_node(stack, env={"DJANGO_STATIC_ROOT": str(static_root)})


def raw_request(port: int, request: bytes, timeout: float = 10) -> tuple[float, bytes]:
    """Send ``request`` as is; the seconds until the server answered, and its status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole request was sent
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
        return time.monotonic() - started, answer.split(b"\r\n", 1)[0]


def user_records(code: str, count: int) -> list[dict]:
    return [
        {
            "code": code,
            "uuid": f"u{index:08d}",
            "nickname": f"用户{index}",
            "onlinetime": 3600 + index,
            "andtimes": 1200,
            "pctimes": 2400,
            "iostimes": 0,
            "fmsgs": 178,
            "tmsgs": 203,
        }
        for index in range(count)
    ]


def assert_answered_by_django(response):
    """A JSON answer from the app: the server's own refusals (400, 413, 414, 431) are plain text."""
    assert response.content_type.startswith("application/json"), (response.status, response.body[:300])
    assert response.status not in {HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.REQUEST_URI_TOO_LONG}
    assert response.status < HTTPStatus.INTERNAL_SERVER_ERROR, response.body[:300]


# The request line is "GET <target> HTTP/1.1": 13 bytes besides the target for a GET.
REQUEST_LINE_OVERHEAD = len("GET  HTTP/1.1")
# The longest target granian takes: its HTTP library (the Rust http crate) refuses a URI of 64 KiB - 1 bytes
# or more with 414, a limit it has no setting for. A request line of 64 KB (the contract) is 65,523 bytes of it.
LONGEST_TARGET = 65_534


def padded_target(path: str, size: int) -> str:
    """``path?…&pad=aaa…``, exactly ``size`` bytes long."""
    prefix = f"{path}&pad=" if "?" in path else f"{path}?pad="
    return prefix + "a" * (size - len(prefix))


def test_a_64_kb_request_line_reaches_django(node):
    target = padded_target("/api/customer/info?code=9999999", 64 * KB - REQUEST_LINE_OVERHEAD)

    response = node.get(target)

    assert_answered_by_django(response)
    assert response.status == HTTPStatus.NOT_FOUND
    assert "code" in response.json()["errors"]


def test_the_longest_target_the_server_takes_reaches_django(node):
    response = node.get(padded_target("/api/customer/info?code=9999999", LONGEST_TARGET))

    assert_answered_by_django(response)


def test_a_get_commit_with_a_64_kb_request_line_is_stored(node, transactional_db, make_customer):
    make_customer(code="0513001")

    def target(count: int) -> str:
        data = json.dumps(user_records("0513001", count), ensure_ascii=False)
        return "/api/user/commit?" + urllib.parse.urlencode({"data": data})

    count = 1
    while len(target(count + 1)) + REQUEST_LINE_OVERHEAD <= 64 * KB:
        count += 1
    assert len(target(count)) > 60 * KB

    response = node.get(target(count))

    assert_answered_by_django(response)
    assert response.status == HTTPStatus.OK
    assert (response.json()["accepted"], response.json()["rejected"]) == (count, [])


@pytest.mark.parametrize("size", [LONGEST_TARGET + 1, 200 * KB], ids=["one-byte-over", "200-kb"])
def test_a_request_target_over_the_limit_is_refused_with_414(node, size):
    _, status_line = raw_request(
        node.port,
        f"GET {padded_target('/api/user/commit?data=x', size)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
    )

    assert status_line.split()[1] == b"414", status_line


def test_a_multi_megabyte_url_is_refused_in_well_under_a_second(node):
    request = b"GET /api/user/commit?data=" + b"a" * (6 * MB) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    elapsed, status_line = raw_request(node.port, request)

    # 414 while the line fits the connection's buffer (400 KB); past it, 431 ("head too large"): either way
    # the server stops reading at the buffer's end, and the request never reaches a worker's Python.
    assert status_line.split()[1] in {b"414", b"431"}, status_line
    assert elapsed < 1.0


def test_an_8_mb_post_batch_is_accepted(node, transactional_db, make_customer):
    make_customer(code="0513001")
    records = user_records("0513001", 50_000)
    body = urllib.parse.urlencode({"data": json.dumps(records, ensure_ascii=False)}).encode()
    assert len(body) >= 8 * MB

    response = node.post(
        "/api/user/commit",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )

    assert_answered_by_django(response)
    assert response.status == HTTPStatus.OK
    assert (response.json()["accepted"], response.json()["rejected"]) == (50_000, [])


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_sent(node):
    request = (
        b"POST /api/user/commit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % (settings.TELEMETRY_MAX_BODY_BYTES + 1)
    )

    _, status_line = raw_request(node.port, request)

    # Answered from the headers alone: the body is never sent, and a server waiting for it would not answer.
    assert status_line.split()[1] == b"413", status_line


def logged(node: Node, **match) -> list[dict]:
    """The node's request-log lines whose fields have the given values, waiting up to 5 s for one."""
    deadline = time.monotonic() + 5
    while True:
        lines = [orjson.loads(line) for line in node.log().splitlines() if line.startswith("{")]
        found = [line for line in lines if all(line.get(key) == value for key, value in match.items())]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_every_request_is_one_json_access_log_line_without_its_query_string(node):
    secret = "0513001-not-for-the-log"
    query = f"code={secret}&pad={'b' * 5017}"  # a length no other test sends
    response = node.get(
        f"/api/customer/info?{query}",
        headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.9", "User-Agent": "zwclient/3.1"},
    )

    lines = logged(node, query_bytes=len(query))

    assert len(lines) == 1, node.log()[-2000:]
    line = lines[0]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/customer/info", HTTPStatus.NOT_FOUND)
    # The client as the app sees it: the entry of X-Forwarded-For our one proxy wrote (DJANGO_NUM_PROXIES=1).
    assert line["client"] == "203.0.113.9"
    assert line["forwarded_for"] == "10.9.9.9, 203.0.113.9"
    assert line["response_bytes"] == len(response.body) > 0
    assert line["duration_ms"] >= 0
    assert line["user_agent"] == "zwclient/3.1"
    assert secret not in node.log()
    assert "b" * 100 not in node.log()


def test_a_commit_body_is_logged_by_its_size(node, transactional_db):
    # Letters no log field can hold by chance (a pid or a duration may well contain "77").
    node.post("/api/server/commit", body=b"code=qzxw", headers={"Content-Type": "application/x-www-form-urlencoded"})

    (line,) = logged(node, path="/api/server/commit", body_bytes=9)

    assert line["method"] == "POST"
    assert "qzxw" not in json.dumps(line)  # nothing of the body itself


def test_static_files_are_served_by_whitenoise_with_hashed_names(node, static_root):
    manifest = orjson.loads((static_root / "staticfiles.json").read_bytes())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"

    response = node.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})

    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    # A streamed answer is logged too, with the bytes actually sent.
    (line,) = logged(node, path=f"/static/{hashed}")
    assert line["response_bytes"] == len(response.body)


# The workers' life: reload, replacement after a crash, recycling. Each test has a node of its own.


def worker_pids(node: Node) -> set[int]:
    try:
        children = Path(f"/proc/{node.process.pid}/task/{node.process.pid}/children").read_text()
    except OSError:
        return set()
    return {int(pid) for pid in children.split()}


def wait_for(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def healthy(node: Node) -> bool:
    try:
        return node.get("/healthz", timeout=5).status == HTTPStatus.OK
    except OSError:  # a connection queued on a worker as it was replaced (granian's warning on tcp_migrate_req)
        return False


def test_a_reload_lets_the_request_in_flight_finish_on_the_old_worker(transactional_db):
    with ExitStack() as stack:
        node = start_node(stack, workers=1, args=("--respawn-interval", "0.5"))
        (old,) = worker_pids(node)
        body = b"code=9999999&name=x"
        with socket.create_connection(("127.0.0.1", node.port), timeout=30) as sock:
            sock.sendall(
                b"POST /api/server/commit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:5])
            )
            time.sleep(0.5)  # the worker has the request and waits for the rest of its body
            node.process.send_signal(signal.SIGHUP)  # systemctl reload zwadmin
            (new,) = wait_for(lambda: worker_pids(node) - {old})
            time.sleep(1)  # past the respawn interval: the old worker is now stopping, and waits for us
            sock.sendall(body[5:])
            answer = sock.recv(65536)

        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]  # the app's answer: an unknown code
        assert b"application/json" in answer
        wait_for(lambda: worker_pids(node) == {new})
        assert wait_for(lambda: healthy(node))
        assert logged(node, path="/healthz", pid=new)


def test_a_worker_that_dies_is_replaced(django_db_setup):
    with ExitStack() as stack:
        node = start_node(stack, workers=2)
        workers = wait_for(lambda: len(worker_pids(node)) == 2 and worker_pids(node))
        victim = min(workers)

        os.kill(victim, signal.SIGKILL)  # a crash: out of memory, a segfault in a C extension

        replaced = wait_for(lambda: len(worker_pids(node) - workers) == 1 and worker_pids(node))
        assert victim not in replaced and len(replaced) == 2
        assert node.process.poll() is None
        assert wait_for(lambda: healthy(node))


def test_a_worker_grown_past_its_memory_limit_is_replaced(django_db_setup, transactional_db, make_customer):
    # The default limit (zwadmin/serve.py) is far above any legitimate peak; here a worker starts well under
    # 150 MiB and a 50,000-user batch takes it past (docs/performance.md: about 270 MB at its peak).
    make_customer(code="0513001")
    body = urllib.parse.urlencode({"data": json.dumps(user_records("0513001", 50_000))}).encode()
    with ExitStack() as stack:
        node = start_node(stack, workers=1, args=("--workers-max-rss", "150", "--rss-sample-interval", "1"))
        (before,) = worker_pids(node)

        response = node.post(
            "/api/user/commit", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=60
        )

        assert response.status == HTTPStatus.OK
        (after,) = wait_for(lambda: len(pids := worker_pids(node)) == 1 and before not in pids and pids)
        assert wait_for(lambda: healthy(node))
        assert logged(node, path="/healthz", pid=after)


def test_the_worker_count_comes_from_the_environment(django_db_setup):
    with ExitStack() as stack:
        node = start_node(stack, workers=None, env={"GRANIAN_WORKERS": "3"})

        assert len(wait_for(lambda: len(worker_pids(node)) == 3 and worker_pids(node))) == 3
