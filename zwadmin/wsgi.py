"""WSGI entry points.

``application`` is Django's (``WSGI_APPLICATION``: ``runserver``); ``served`` is what the production server runs
(``python -m zwadmin.serve``, granian): the same application inside the request log (zwadmin/access_log.py),
given each request without the server process's own environment, with a chunked body read, and memory given back
after a large body.
"""

import ctypes
import ctypes.util
import io
import os

from django.core.wsgi import get_wsgi_application

from zwadmin.access_log import RequestLog

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwadmin.settings")

# What a request's environ may hold besides its HTTP_* headers (PEP 3333, CGI 1.1).
REQUEST_KEYS = frozenset(
    (
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_HOST",
        "REMOTE_PORT",
        "GATEWAY_INTERFACE",
        "SERVER_SOFTWARE",
        "RAW_URI",
    )
)


class WithoutProcessEnvironment:
    """granian copies its process's whole environment into every request's environ: ``DATABASE_URL``,
    ``DJANGO_SECRET_KEY`` and the mail password would then be in ``request.META``, where an error report or a
    debugging aid could show them. They are dropped before Django sees the request."""

    def __init__(self, application):
        self.application = application
        self.process_keys = frozenset(
            key for key in os.environ if not key.startswith("HTTP_") and key not in REQUEST_KEYS
        )

    def __call__(self, environ, start_response):
        for key in self.process_keys:
            environ.pop(key, None)
        return self.application(environ, start_response)


class ChunkedBodies:
    """A body sent ``Transfer-Encoding: chunked``, without ``Content-Length``, is read here, so the endpoints see it.

    Django reads as many bytes as ``CONTENT_LENGTH`` says, none without it: such a body was silently taken for an
    empty one (a commit answered "data required"). WSGI cannot stream a body of unknown length into Django, so it
    is read (granian hands it over as it arrives) up to the largest body any endpoint takes, and ``CONTENT_LENGTH``
    set to what was read. A body longer than that is read no further: ``CONTENT_LENGTH`` then says one byte over
    the limit, and the endpoint refuses it by its size with its usual 413, as it would the same body sent with a
    ``Content-Length``. (nginx in front reads chunked bodies itself and forwards them with a length.)
    """

    READ_SIZE = 64 * 1024

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() and not environ.get("CONTENT_LENGTH"):
            self.read_body(environ)
        return self.application(environ, start_response)

    def read_body(self, environ) -> None:
        from django.conf import settings

        limit = max(settings.TELEMETRY_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
        stream, body = environ["wsgi.input"], io.BytesIO()
        while body.tell() <= limit:
            chunk = stream.read(min(self.READ_SIZE, limit + 1 - body.tell()))
            if not chunk:
                break
            body.write(chunk)
        environ["CONTENT_LENGTH"] = str(body.tell())
        body.seek(0)
        environ["wsgi.input"] = body


class ReturnMemoryAfterLargeBodies:
    """After a request with a large body, glibc is asked to give back to the system what it freed (``malloc_trim``).

    A 30 MB batch is parsed into millions of small objects; once they are freed, glibc keeps most of the space
    they took in its heap, and the worker stayed 60-100 MB above its idle size until later requests happened to
    let it go: the next large batch then started from there (bench/faults.py). Trimming costs a few
    milliseconds, so only after bodies of at least ``LARGE_BODY`` bytes. Not glibc (musl): nothing is done.
    """

    LARGE_BODY = 1024 * 1024

    def __init__(self, application):
        self.application = application
        try:
            self.trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
        except (AttributeError, OSError, TypeError):
            self.trim = None

    def __call__(self, environ, start_response):
        response = self.application(environ, start_response)
        # Read after the request: a chunked body's length is known only once ChunkedBodies has read it.
        try:
            large = int(environ.get("CONTENT_LENGTH") or 0) >= self.LARGE_BODY
        except ValueError:
            large = False
        if large and self.trim is not None:
            self.trim(0)
        return response


application = get_wsgi_application()
served = RequestLog(WithoutProcessEnvironment(ReturnMemoryAfterLargeBodies(ChunkedBodies(application))))
