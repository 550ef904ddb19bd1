"""The request log (zwadmin/access_log.py) around a WSGI application: one JSON line per request on stdout.

tests/test_serving.py reads it from the real server; these check its fields and its failures in process.
"""

import orjson
import pytest

from zwadmin.access_log import RequestLog


def environ(**extra) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/customer/info",
        "QUERY_STRING": "code=0513001",
        "REMOTE_ADDR": "127.0.0.1",
        **extra,
    }


def app(chunks, status="200 OK"):
    def application(environ, start_response):
        start_response(status, [("Content-Type", "application/json")])
        return chunks

    return application


def serve(application, env) -> tuple[bytes, list]:
    """Call ``application`` as a server does: iterate the answer, then close it."""
    statuses = []
    result = application(env, lambda status, headers, exc_info=None: statuses.append(status))
    body = b"".join(result)
    result.close()
    return body, statuses


def lines(capfd) -> list[dict]:
    return [orjson.loads(line) for line in capfd.readouterr().out.splitlines()]


def test_a_request_is_one_json_line_with_what_was_sent(capfd):
    body, statuses = serve(RequestLog(app([b'{"code":', b'"0513001"}'])), environ(HTTP_USER_AGENT="zwclient"))

    (line,) = lines(capfd)
    assert statuses == ["200 OK"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/customer/info", 200)
    assert line["response_bytes"] == len(body) == 18
    assert line["query_bytes"] == len("code=0513001")
    assert line["user_agent"] == "zwclient"
    assert line["duration_ms"] >= 0


def test_the_query_string_is_never_logged(capfd):
    serve(RequestLog(app([b"{}"])), environ(QUERY_STRING="data=secret-customer-data"))

    assert "secret-customer-data" not in capfd.readouterr().out


@pytest.mark.parametrize(
    ("proxies", "expected"), [(None, "127.0.0.1"), (1, "203.0.113.9")], ids=["header-ignored", "behind-one-proxy"]
)
def test_the_client_is_the_address_the_throttles_see(capfd, settings, proxies, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}

    serve(RequestLog(app([b"{}"])), environ(HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9"))

    (line,) = lines(capfd)
    assert line["client"] == expected
    assert line["forwarded_for"] == "10.0.0.1, 203.0.113.9"


def test_a_body_is_logged_by_its_length_and_a_bad_length_does_not_lose_the_line(capfd):
    serve(RequestLog(app([b"{}"])), environ(REQUEST_METHOD="POST", CONTENT_LENGTH="8388608"))
    serve(RequestLog(app([b"{}"])), environ(REQUEST_METHOD="POST", CONTENT_LENGTH="lots"))

    first, second = lines(capfd)
    assert first["body_bytes"] == 8388608
    assert second["body_bytes"] is None


def test_an_application_that_raises_is_logged_as_a_500_and_the_error_goes_on(capfd):
    def broken(environ, start_response):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        RequestLog(broken)(environ(), lambda *args: None)

    (line,) = lines(capfd)
    assert line["status"] == 500
