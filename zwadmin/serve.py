"""The production server: granian serving ``zwadmin.wsgi:served`` (Django, synchronous, with the request log).

    .venv/bin/python -m zwadmin.serve [granian's options]

Used by ``make serve``, ``deploy/zwadmin.service``, the app-server tests (``tests/nodes.py``) and ``make bench``
(docs/deployment.md). It refuses to start with ``DJANGO_DEBUG`` on, then runs granian's own command line with the
defaults below. Each default is given as granian's own environment variable, only when that variable is unset:
so every ``GRANIAN_*`` variable of ``granian --help`` still wins over it, and a command-line option over both.
docs/configuration.md ("Server") documents the ones set here.
"""

import os
import sys

import environ

env = environ.Env()

# The WSGI callable granian serves: Django's application wrapped in the request log (zwadmin/wsgi.py).
TARGET = "zwadmin.wsgi:served"

# A worker stays at most this long, then is replaced (a new one first, then the old one stops gracefully): bounds
# a slow leak, as gunicorn's max_requests did. And a worker whose memory passes this many MiB is replaced the
# same way at the next check (every 30 s): the largest legitimate peak, a 50,000-user batch, is under 300 MB.
WORKER_LIFETIME = "6h"
WORKER_MAX_RSS_MIB = 1024
# Seconds a stopping worker is given to finish its requests before it is killed (reload, replacement, stop):
# longer than the slowest legitimate request, an 8 MB batch of 50,000 users (a few seconds).
WORKER_KILL_TIMEOUT = 30


def cores() -> int:
    """The CPUs this process may run on (a container's or systemd's CPU affinity, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads() -> int:
    """Threads per worker: Django runs in them, one request each, each with its own database connection.

    The lookup never waits (answered from process memory) and gains nothing from more than two threads, which
    only queue on Python's GIL; the commits wait on PostgreSQL, and a few threads keep the CPU busy meanwhile.
    docs/performance.md has the measurements.
    """
    return 4


def set_defaults() -> None:
    """granian's settings for production, each as the ``GRANIAN_*`` variable that sets it, unless already set."""
    # Django stays synchronous: WSGI, each request in one of the worker's threads.
    os.environ.setdefault("GRANIAN_INTERFACE", "wsgi")
    # Behind nginx on the same machine (deploy/nginx/): only nginx may reach this port, because the app believes
    # X-Forwarded-For and X-Forwarded-Proto as nginx writes them.
    os.environ.setdefault("GRANIAN_HOST", "127.0.0.1")
    os.environ.setdefault("GRANIAN_PORT", os.environ.get("PORT", "8000"))
    os.environ.setdefault("GRANIAN_HTTP", "1")  # nginx speaks HTTP/1.1 to its upstreams
    os.environ.setdefault("GRANIAN_WEBSOCKETS", "false")  # none in WSGI: granian would only say so at start-up
    # One process per core: each runs Python on its own core; the threads of one share its GIL.
    os.environ.setdefault("GRANIAN_WORKERS", str(cores()))
    os.environ.setdefault("GRANIAN_BLOCKING_THREADS", str(default_threads()))
    # A worker that dies is replaced; one that dies again within seconds stops the server instead (granian's
    # crash-loop guard), and systemd starts it again (Restart=on-failure).
    os.environ.setdefault("GRANIAN_RESPAWN_FAILED_WORKERS", "true")
    os.environ.setdefault("GRANIAN_WORKERS_LIFETIME", WORKER_LIFETIME)
    os.environ.setdefault("GRANIAN_WORKERS_MAX_RSS", str(WORKER_MAX_RSS_MIB))
    os.environ.setdefault("GRANIAN_WORKERS_KILL_TIMEOUT", str(WORKER_KILL_TIMEOUT))
    # The request log is the app's (zwadmin/access_log.py): it knows the client address as the app sees it and
    # the bytes sent. granian's own would only repeat it, without them.
    os.environ.setdefault("GRANIAN_LOG_ACCESS_ENABLED", "false")


def malloc_settings_missing() -> bool:
    """Sets glibc's memory settings for the workers, unless set; True if the process must start again to use them.

    A request runs in one of a worker's threads, and glibc gives threads arenas of their own and, after a large
    block is freed, keeps the next ones in its heap instead of returning them: a worker that had answered a few
    50,000-user batches peaked at 300-430 MB instead of 250. Two arenas and a fixed 128 KB threshold for
    returning large blocks at once bring it back (docs/performance.md). glibc reads them when a process starts,
    and the workers are forked from this one: so they are set, then this process starts again with them.
    """
    missing = "MALLOC_ARENA_MAX" not in os.environ or "MALLOC_MMAP_THRESHOLD_" not in os.environ
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "131072")
    return missing


def main(argv: list[str] | None = None) -> None:
    # Read as the settings read it, so that every value that turns debug on there is refused here.
    if env.bool("DJANGO_DEBUG", default=False):
        raise SystemExit(
            "zwadmin.serve is the production server and never runs Django's debug mode (its pages show settings "
            "and SQL to anyone): unset DJANGO_DEBUG, or use `make run` to develop."
        )
    args = sys.argv[1:] if argv is None else argv
    if malloc_settings_missing():
        os.execv(sys.executable, [sys.executable, "-m", "zwadmin.serve", *args])  # the same process id
    set_defaults()

    from granian.cli import cli

    cli.main(args=[*args, TARGET], prog_name="python -m zwadmin.serve", auto_envvar_prefix="GRANIAN")


if __name__ == "__main__":
    main()
