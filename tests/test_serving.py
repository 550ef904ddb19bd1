"""The production server as deployed clients meet it: gunicorn with the committed gunicorn.conf.py.

GET commits carry their batch in the query string (at least 64 KB must pass), POST batches weigh
8 MB and more, and a multi-megabyte URL must be refused at once, before it costs a worker seconds.
Static files come from whitenoise with hashed names.
"""

import json
import socket
import time
import urllib.parse
from contextlib import ExitStack
from http import HTTPStatus

import orjson
import pytest

from tests.nodes import needs_postgresql, start_node

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
    """A JSON answer from the app: gunicorn's own refusals (400, 413, 414, 431) are HTML or plain text."""
    assert response.content_type.startswith("application/json"), (response.status, response.body[:300])
    assert response.status not in {HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.REQUEST_URI_TOO_LONG}
    assert response.status < HTTPStatus.INTERNAL_SERVER_ERROR, response.body[:300]


def test_a_64_kb_request_line_reaches_django(node):
    pad = "a" * (64 * KB)

    response = node.get(f"/api/customer/info?code=9999999&pad={pad}")

    assert_answered_by_django(response)
    assert response.status == HTTPStatus.NOT_FOUND
    assert "code" in response.json()["errors"]


def test_a_get_commit_with_a_64_kb_query_string_is_stored(node, transactional_db, make_customer):
    make_customer(code="0513001")
    records, query = [], ""
    while len(query) < 64 * KB:
        records = user_records("0513001", len(records) + 50)
        query = urllib.parse.urlencode({"data": json.dumps(records, ensure_ascii=False)})

    response = node.get(f"/api/user/commit?{query}")

    assert_answered_by_django(response)
    if response.status == HTTPStatus.OK:
        assert response.json()["accepted"] == len(records)


def test_a_request_line_just_over_the_128_kb_ceiling_is_refused_by_gunicorn(node):
    response = node.get(f"/api/customer/info?code=9999999&pad={'a' * (128 * KB)}")

    assert response.status == HTTPStatus.REQUEST_URI_TOO_LONG


def test_a_multi_megabyte_url_is_refused_in_well_under_a_second(node):
    request = b"GET /api/user/commit?data=" + b"a" * (6 * MB) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    elapsed, status_line = raw_request(node.port, request)

    assert status_line.split()[1] in {b"414", b"400"}, status_line
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
    if response.status == HTTPStatus.OK:
        assert (response.json()["accepted"], response.json()["rejected"]) == (50_000, [])


def test_every_request_is_one_json_access_log_line_without_its_query_string(node):
    secret = "0513001-not-for-the-log"
    query = f"code={secret}&pad={'b' * (64 * KB + 17)}"  # a length no other test sends
    node.get(f"/api/customer/info?{query}", headers={"X-Forwarded-For": "203.0.113.9"})

    def logged():
        lines = [json.loads(line) for line in node.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line["query_bytes"] == len(query)]

    deadline = time.monotonic() + 5  # the worker writes its line after the response
    while not (lines := logged()) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert len(lines) == 1, node.log()[-2000:]
    assert lines[0]["path"] == "/api/customer/info"
    assert lines[0]["status"] == HTTPStatus.NOT_FOUND
    assert lines[0]["forwarded_for"] == "203.0.113.9"
    assert lines[0]["duration_ms"] >= 0
    assert secret not in node.log()
    assert "b" * 100 not in node.log()


def test_static_files_are_served_by_whitenoise_with_hashed_names(node, static_root):
    manifest = orjson.loads((static_root / "staticfiles.json").read_bytes())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"

    response = node.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"})

    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
