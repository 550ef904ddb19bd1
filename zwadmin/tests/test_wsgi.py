"""What the production server hands Django (``zwadmin.wsgi.served``): the request, not the server's secrets."""

import os

from zwadmin.wsgi import WithoutProcessEnvironment


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
