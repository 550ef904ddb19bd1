"""What every benchmark shares: the bench database and Redis, app nodes, timing statistics, the machine.

Everything runs on this machine only (127.0.0.1): the services it starts, the app nodes it serves (the
production server, granian; gunicorn with its former configuration for comparison), and the load it sends to
them. Every load is bounded in time and stops by itself.
"""

import http.client
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The former production server's configuration, run beside granian for comparison (bench/serving.py).
GUNICORN_CONF = PROJECT_DIR / "bench" / "gunicorn.conf.py"
SERVERS = ("granian", "gunicorn")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/zwadmin_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def bench_urls() -> tuple[str, str]:
    """The bench database and Redis: ``BENCH_DATABASE_URL`` and ``BENCH_REDIS_URL``, else the defaults above.

    Two people benchmarking on one machine give each run its own (the database is dropped at every run).
    """
    return (
        os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
    )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the machine ----------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "hostname": platform.node(),
    }


# --- services ---------------------------------------------------------------------------------------------


def _run(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=timeout)


def ensure_services(database_url: str, redis_url: str) -> None:
    """Start the machine's PostgreSQL and Redis when they are down (as ``.ci/run`` does), then wait for them."""
    db = urllib.parse.urlsplit(database_url)
    redis = urllib.parse.urlsplit(redis_url)
    host, port = db.hostname or "127.0.0.1", str(db.port or 5432)
    rhost, rport = redis.hostname or "127.0.0.1", str(redis.port or 6379)
    if shutil.which("pg_isready") and _run("pg_isready", "-q", "-h", host, "-p", port, check=False).returncode:
        clusters = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").is_dir() else []
        if clusters and shutil.which("pg_ctlcluster"):
            log("starting PostgreSQL")
            version = clusters[-1].parent.name
            _run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start", check=False)
    if shutil.which("redis-cli") and _run("redis-cli", "-h", rhost, "-p", rport, "ping", check=False).returncode:
        if shutil.which("redis-server"):
            log("starting Redis")
            Path("/tmp/zwadmin-bench-redis").mkdir(exist_ok=True)
            _run(
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                rhost,
                "--port",
                rport,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                "/tmp/zwadmin-bench-redis",
                check=False,
            )
    for _ in range(60):
        if _port_open(host, int(port)) and _port_open(rhost, int(rport)):
            return
        time.sleep(1)
    raise SystemExit(f"PostgreSQL ({host}:{port}) or Redis ({rhost}:{rport}) is not answering")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def database_exists(database_url: str) -> bool:
    import psycopg

    parts = urllib.parse.urlsplit(database_url)
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts.path.lstrip("/")]).fetchone()
    return row is not None


def recreate_database(database_url: str) -> None:
    """Drop and create the bench database (its name must say it is one: it is dropped without asking)."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the bench database's name must contain 'bench'")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()


def configure_environment(database_url: str, redis_url: str, static_root: Path) -> dict[str, str]:
    """The environment of the bench process and its nodes: production settings plus the bench URLconf."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # testserver: the in-process measurements of the lists and the console use Django's test client.
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_NUM_PROXIES": "0",  # the load comes straight to the app server
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_LOG_LEVEL": "WARNING",  # one INFO line per batch would be measured too
        "DJANGO_CACHE_PREFIX": "zwadmin-bench",
        # The bench commits one code dozens of times an hour: the commit throttle still runs (its cost is
        # measured) but with room for all of them.
        "ZWADMIN_COMMIT_RATE": "1000000/hour",
    }
    for name in list(os.environ):
        if name in ("DJANGO_DEBUG", "DJANGO_CONN_MAX_AGE", "WEB_CONCURRENCY", "PORT", "BENCH_FULL_MIDDLEWARE"):
            os.environ.pop(name)
        elif name.startswith(("GRANIAN_", "GUNICORN_")):  # the servers' own settings: each run starts from ours
            os.environ.pop(name)
    os.environ.update(env)
    return env


# --- app nodes --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    """An app server on 127.0.0.1:``port``: ``server`` is granian (production) or gunicorn (the former one)."""

    port: int
    process: subprocess.Popen
    log_path: Path
    server: str = "granian"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout=300):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-size:]


def start_node(
    stack: ExitStack,
    *,
    server: str = "granian",
    workers: int | None = None,
    threads: int | None = None,
    full_middleware: bool = False,
    extra_args: tuple[str, ...] = (),
) -> Node:
    """Start an app node; ``workers`` (and granian's ``threads``) None keep the server's own defaults.

    granian runs as production runs it (``python -m zwadmin.serve``, zwadmin/serve.py). gunicorn runs the former
    production setup, for comparison: ``bench/gunicorn.conf.py`` (sync workers, 2 × CPUs + 1, its JSON access
    log) serving Django as it was, every request through the whole middleware chain (``BENCH_FULL_MIDDLEWARE``,
    bench/settings.py); ``full_middleware`` serves granian's requests that way too.
    """
    port = free_port()
    log_fd, log_name = tempfile.mkstemp(prefix=f"zwadmin-bench-{server}-{port}-", suffix=".log")
    stack.callback(os.unlink, log_name)
    env = dict(os.environ)
    if full_middleware:
        env["BENCH_FULL_MIDDLEWARE"] = "1"
    if server == "granian":
        args = [sys.executable, "-m", "zwadmin.serve", "--port", str(port)]
        if workers is not None:
            args += ["--workers", str(workers)]
        if threads is not None:
            args += ["--blocking-threads", str(threads)]
        args += list(extra_args)
        expected = workers or _cores()
    elif server == "gunicorn":
        args = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}"]
        if workers is not None:
            args += ["--workers", str(workers)]
        args += [*extra_args, "zwadmin.wsgi"]
        env["BENCH_FULL_MIDDLEWARE"] = "1"
        expected = workers if workers is not None else 2 * (os.cpu_count() or 1) + 1
    else:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    with os.fdopen(log_fd, "wb") as log_file:
        process = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,  # its own process group: _stop can end its workers too
        )
    stack.callback(_stop, process)
    node = Node(port, process, Path(log_name), server)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server} node exited with {process.returncode}:\n{node.log_tail()}")
        try:
            status, _body = node.request("GET", "/healthz", timeout=5)
            if status == 200 and len(node.worker_pids()) >= expected:
                # Every worker answers once before anything is measured (imports, connections).
                for _ in range(expected * 4):
                    node.request("GET", "/healthz", timeout=5)
                return node
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server} node on port {port} did not come up:\n{node.log_tail()}")


def _cores() -> int:
    from zwadmin.serve import cores

    return cores()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)  # longer than a stuck worker is given before granian kills it (30 s)
        except subprocess.TimeoutExpired:
            pass
    try:  # whatever is left of the node, workers included: none may outlive the bench
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


# --- statistics -------------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def summary(values: list[float]) -> dict:
    return {"median": median(values), "min": min(values), "max": max(values), "rounds": list(values)}


def interleaved(rounds: int, baseline, candidate) -> tuple[list, list]:
    """Run ``baseline()`` and ``candidate()`` alternately, ``rounds`` times each.

    The order flips every round (B C, C B, B C …) so that a drift of the shared machine (another
    process, a warming cache) falls on both sides alike.
    """
    base, cand = [], []
    for index in range(rounds):
        if index % 2 == 0:
            base.append(baseline())
            cand.append(candidate())
        else:
            cand.append(candidate())
            base.append(baseline())
    return base, cand
