"""Where a request's time goes: pyinstrument over the lookup or a 50,000-user commit, in process.

    .venv/bin/python -m bench.profile lookup [--requests 3000]
    .venv/bin/python -m bench.profile ingest [--users 50000]

Calls Django's WSGI handler directly (no server, no network) with production settings, against the bench
database and Redis of ``make bench`` (``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``; this migrates the database if
needed). Prints the time per request (wall and CPU) and pyinstrument's call tree. Needs bench/requirements.txt.
"""

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from .common import bench_urls, configure_environment, ensure_services


def _environ(method: str, path: str, query: str = "", body: bytes = b"", content_type: str = "") -> dict:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=("lookup", "constant", "ingest"))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=50_000)
    args = parser.parse_args(argv)

    database_url, redis_url = bench_urls()
    ensure_services(database_url, redis_url)
    configure_environment(database_url, redis_url, Path(tempfile.mkdtemp()))
    import django
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection
    from pyinstrument import Profiler

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from . import ingest, lookup

    lookup.prepare()
    app = WSGIHandler()

    def call(environ: dict) -> None:
        statuses = []
        result = app(environ, lambda status, headers: statuses.append(status))
        body = b"".join(result)
        result.close()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{statuses[0]}: {body[:300]!r}")

    if args.target in ("lookup", "constant"):
        path, query = (
            ("/api/customer/info", f"code={lookup.CODE}") if args.target == "lookup" else ("/bench/constant", "")
        )

        def once():
            call(_environ("GET", path, query))

        count = args.requests
    else:
        bodies = [ingest.form_body(ingest.records(args.users, seed=seed)) for seed in (1, 2)]
        form = "application/x-www-form-urlencoded"
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE telemetry_imuser")
        call(_environ("POST", "/api/user/commit", body=bodies[0], content_type=form))

        def once():
            call(_environ("POST", "/api/user/commit", body=bodies[1], content_type=form))

        count = 1
    for _ in range(min(count, 50)):
        once()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.target}: {wall / count * 1e3:.3f} ms wall, {cpu / count * 1e3:.3f} ms CPU per request")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(count):
        once()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
