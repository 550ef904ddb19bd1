"""The former production server's configuration, kept only as the serving benchmark's comparison (bench/serving.py).

Until granian replaced it (zwadmin/serve.py, docs/deployment.md), production ran
`gunicorn -c gunicorn.conf.py zwadmin.wsgi` with exactly this file; `make bench` runs it beside granian, on
the same machine and in the same run, to show what the change bought. Never used in production.
Environment: PORT or GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_TIMEOUT, GUNICORN_ACCESSLOG.
"""

import datetime
import json
import multiprocessing
import os

import environ
import gunicorn.http.message
from gunicorn import glogging

env = environ.Env()

if env.bool("DJANGO_DEBUG", default=False):
    # The production server never runs Django's debug mode: it shows settings and SQL to anyone. Read as the
    # settings read it, so that every value that turns debug on there is refused here.
    raise RuntimeError("gunicorn.conf.py is the production server: unset DJANGO_DEBUG (use `make run` to develop).")

# Behind nginx on the same machine (deploy/nginx/zwadmin.conf). Only nginx may reach this port: the app trusts
# X-Forwarded-Proto and X-Forwarded-For as nginx sets them.
bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")

# Sync workers: nginx buffers whole requests and responses, so a slow client never holds a worker, and
# every worker holds at most one database connection (workers × nodes ≤ PostgreSQL max_connections).
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# A worker silent for this long is killed and replaced; the slowest legitimate request is an 8 MB
# batch of 50,000 users, a few seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (jittered so they do not all restart at once): bounds any slow leak.
max_requests = 20000
max_requests_jitter = 2000

# Request line. GET commits carry their batch in the query string: at least 64 KB must pass
# (docs/protocol.md). gunicorn accepts limit_request_line from 0 to 8190 only: 0 means unlimited, and any
# value above 8190 is silently clamped to 8190. Unlimited is not an option on the internet: gunicorn's
# parser rescans the whole buffer on every read, so a 6 MB request line costs seconds of CPU per request.
# So the ceiling is raised deliberately here, to twice the contract: a line of up to 128 KB is parsed
# (about 16 reads, well under a millisecond) and a longer one is refused with 414 as soon as its first
# 128 KB have arrived. nginx in front refuses the same lines first (large_client_header_buffers 4 128k).
# Checked at start-up so that a gunicorn upgrade that moves the constant fails loudly instead of
# falling back to 8190; tests/test_serving.py proves both edges through this file.
REQUEST_LINE_LIMIT = 128 * 1024
if not isinstance(getattr(gunicorn.http.message, "MAX_REQUEST_LINE", None), int):
    raise RuntimeError("gunicorn.http.message.MAX_REQUEST_LINE is gone: review the request-line limit.")
gunicorn.http.message.MAX_REQUEST_LINE = REQUEST_LINE_LIMIT
limit_request_line = REQUEST_LINE_LIMIT
# Headers keep gunicorn's defaults (100 fields of at most 8190 bytes). There is no body limit in
# gunicorn: nginx's client_max_body_size and ZWADMIN_TELEMETRY_MAX_BODY_BYTES bound the body.

# Logs: errors to stderr, one JSON object per request to stdout (GUNICORN_ACCESSLOG to change).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Trust X-Forwarded-Proto only from nginx on this machine (gunicorn's default, spelled out; FORWARDED_ALLOW_IPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "zwadmin"
# No control socket (gunicorn ≥ 25): systemd's signals are enough, and every instance of one user would
# otherwise share $HOME/.gunicorn/gunicorn.ctl (two nodes on one machine, `make serve` beside the tests).
control_socket_disable = True


class JSONAccessLogger(glogging.Logger):
    """The request log: one JSON object per request, written by gunicorn outside Django.

    The query string is never logged, only its length: GET commits carry up to 128 KB of customer
    data in it, and a lookup's code is not worth a log line each. Cheap enough for the lookup path
    (one ``json.dumps`` per request, no Django middleware).
    """

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            record = {
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", "")[:200] or None,
                "request_id": environ.get("HTTP_X_REQUEST_ID", "")[:64] or None,
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO", "")[:500],
                "query_bytes": len(environ.get("QUERY_STRING", "")),
                "status": int(status),
                "body_bytes": int(environ.get("CONTENT_LENGTH") or 0),
                "response_bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "user_agent": environ.get("HTTP_USER_AGENT", "")[:200] or None,
                "pid": os.getpid(),
            }
            self.access_log.info(json.dumps(record))
        except Exception:  # a log line must never fail a request
            self.exception("access log")


logger_class = JSONAccessLogger
