"""What the production server hands Django (``zwadmin.wsgi.served``): the request, not the server's secrets."""

import io
import os

from zwadmin.wsgi import ChunkedBodies, ReturnMemoryAfterLargeBodies, WithoutProcessEnvironment


def test_the_process_environment_never_reaches_the_request(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://zwadmin:db-password@db/zwadmin")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-for-request-meta")
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        return [b""]

    # As granian builds it: the process's environment, then the request's own keys.
    environ = {**os.environ, "REQUEST_METHOD": "GET", "PATH_INFO": "/api/customer/info", "HTTP_HOST": "console"}
    WithoutProcessEnvironment(app)(environ, lambda *args: None)

    assert "DATABASE_URL" not in seen and "DJANGO_SECRET_KEY" not in seen
    assert "db-password" not in repr(seen)
    assert (seen["REQUEST_METHOD"], seen["PATH_INFO"], seen["HTTP_HOST"]) == ("GET", "/api/customer/info", "console")


def chunked_request(body: bytes) -> dict:
    # As granian hands over a chunked body: no CONTENT_LENGTH, the body readable from wsgi.input.
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/user/commit",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }


def test_a_chunked_body_is_read_and_given_its_length(settings):
    seen = {}

    def app(environ, start_response):
        seen["length"] = environ["CONTENT_LENGTH"]
        seen["body"] = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        return [b""]

    ChunkedBodies(app)(chunked_request(b"data=[]"), lambda *args: None)

    assert seen == {"length": "7", "body": b"data=[]"}


def test_a_chunked_body_over_the_limit_is_read_no_further_and_says_it_is_over(settings):
    settings.TELEMETRY_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    request = chunked_request(b"x" * 1000)
    seen = {}

    def app(environ, start_response):
        seen["length"] = environ["CONTENT_LENGTH"]
        return [b""]

    ChunkedBodies(app)(request, lambda *args: None)

    assert seen["length"] == "101"  # refused by its size by every endpoint, unparsed


def test_a_body_with_a_length_is_left_to_django(settings):
    request = {**chunked_request(b"data=[]"), "CONTENT_LENGTH": "7"}
    stream = request["wsgi.input"]

    ChunkedBodies(lambda environ, start_response: [b""])(request, lambda *args: None)

    assert request["wsgi.input"] is stream and stream.tell() == 0


def test_memory_is_given_back_after_a_large_chunked_body_as_after_a_large_body_with_a_length():
    trims = []

    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        return [b""]

    served = ReturnMemoryAfterLargeBodies(ChunkedBodies(app))
    served.trim = trims.append  # glibc's malloc_trim(0), observed
    large = 2 * ReturnMemoryAfterLargeBodies.LARGE_BODY
    served(chunked_request(b"x" * large), lambda *args: None)
    served(chunked_request(b"data=[]"), lambda *args: None)
    served({**chunked_request(b""), "HTTP_TRANSFER_ENCODING": "", "CONTENT_LENGTH": str(large)}, lambda *args: None)

    assert trims == [0, 0]  # the large chunked body and the large body with a length; not the small one
