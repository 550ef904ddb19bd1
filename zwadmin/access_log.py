"""The request log: one JSON object per line on standard output, a line per request.

Written around Django's WSGI application (``zwadmin.wsgi.served``), so it sees every request the server hands
to the app, whatever Django answers, and it costs no middleware. It gives what the server's own log could not:
the client address as the app sees it (``zwadmin.client_address``, the one the throttles use) and the bytes
sent. The query string is never logged, only its length: GET commits carry customer data in it.

Each line is one ``write`` to file descriptor 1, not a ``logging`` record: on the lookup's path Python's
logging (a record, the caller's frame, the process id, a lock, a flush) cost as much as the lookup's own view,
and a line of a few hundred bytes written at once is never interleaved with another process's (systemd's
journal, a pipe or a file opened for appending).
"""

import datetime
import logging
import os
import time

import orjson

from .client_address import environ_client_ip

logger = logging.getLogger(__name__)

STDOUT = 1

# The process id, read once per process (a system call each time otherwise), again in a forked child.
_pid = os.getpid()


def _forget_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forget_pid)


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _length(value: str | None) -> int | None:
    try:
        return int(value) if value else 0
    except ValueError:
        return None  # a Content-Length that is not a number: the server refuses such a request first anyway


class RequestLog:
    """WSGI middleware: ``application`` with one request-log line per request, written once the server has sent
    the answer and closes it (PEP 3333), with the bytes sent and the time until then."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        status = []

        def start(status_line, headers, exc_info=None):
            status[:] = [status_line]
            return start_response(status_line, headers, exc_info)

        try:
            result = self.application(environ, start)
        except BaseException:
            log(environ, "500", None, started)
            raise
        return _Logged(result, environ, status, started)


class _Logged:
    """The answer, passed through chunk by chunk and counted; logged when the server closes it."""

    def __init__(self, result, environ, status, started):
        self.result = result
        self.chunks = iter(result)
        self.environ = environ
        self.status = status
        self.started = started
        self.sent = 0

    def __iter__(self):
        return self

    def __next__(self):
        chunk = next(self.chunks)
        self.sent += len(chunk)
        return chunk

    def close(self):
        try:
            if hasattr(self.result, "close"):
                self.result.close()  # Django's request_finished: the database connection goes back
        finally:
            log(self.environ, self.status[0] if self.status else "500", self.sent, self.started)


def log(environ, status_line: str, sent: int | None, started: float) -> None:
    try:
        record = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "client": environ_client_ip(environ),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": _clip(environ.get("HTTP_X_FORWARDED_FOR"), 200),
            "request_id": _clip(environ.get("HTTP_X_REQUEST_ID"), 64),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO", "")[:500],
            "query_bytes": len(environ.get("QUERY_STRING", "")),
            "status": int(status_line[:3]),
            "body_bytes": _length(environ.get("CONTENT_LENGTH")),
            "response_bytes": sent,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_agent": _clip(environ.get("HTTP_USER_AGENT"), 200),
            "pid": _pid,
        }
        os.write(STDOUT, orjson.dumps(record) + b"\n")
    except Exception:  # a log line must never fail a request
        logger.exception("request log")
