"""Test helpers that run the production server: granian as ``python -m zwadmin.serve`` starts it.

A test starts one or more app nodes as separate processes on free ports, pointed at the pytest test
database (PostgreSQL: the nodes and the test share it) and Redis, exactly as production runs them
behind nginx, and talks HTTP to them. Used by ``tests/`` and ``telemetry/tests/test_lookup_nodes.py``.

Or on the embedded default, as ``make serve`` runs without DATABASE_URL and REDIS_URL: an SQLite file of the
test's own (:func:`embedded_database`, migrated as ``make serve`` migrates it) and no Redis, with
``env=database.node_env()``; the test reads that file's rows with :meth:`EmbeddedDatabase.query`.
"""

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent
SERVER_MODULE = "zwadmin.serve"  # the production server's launcher (zwadmin/serve.py)
TEST_SECRET_KEY = "test-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

# The configuration a node reads from its environment; the test's own environment is not passed on.
_CONFIG_PREFIXES = ("DJANGO_", "ZWADMIN_", "GRANIAN_")
_CONFIG_NAMES = {"DATABASE_URL", "REDIS_URL", "PORT", "PYTEST_ADDOPTS"}

# Marks for tests that start app nodes. They include ``django_db``: pytest-django creates the test database
# only when a collected test asks for one, and the nodes need it even when the test itself makes no query.
needs_postgresql = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs a database shared with app processes: set DATABASE_URL (PostgreSQL)",
    ),
]
needs_postgresql_and_redis = [
    pytest.mark.django_db,
    pytest.mark.redis,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs a shared database and Redis: set DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_database_url() -> str:
    """A ``DATABASE_URL`` for the database the tests run on (pytest's PostgreSQL test database)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("app nodes can share only a PostgreSQL test database")
    user = urllib.parse.quote(db["USER"] or "", safe="")
    password = f":{urllib.parse.quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class EmbeddedDatabase:
    """An SQLite file of the test's own, migrated: the embedded default's database (no Redis)."""

    path: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{urllib.parse.quote(str(self.path))}"

    def node_env(self, **more: str | None) -> dict[str, str | None]:
        """``start_node``'s ``env`` for a node on this file and no Redis, as ``make serve`` runs by default."""
        return {"DATABASE_URL": self.url, "REDIS_URL": None, **more}

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run ``manage.py <args>`` on this file (production settings); its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=node_environment({**self.node_env(), **(env or {})}),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql, params).fetchall()


def embedded_database(directory: Path) -> EmbeddedDatabase:
    """A new SQLite file in ``directory``, migrated (with its cache table) as ``make serve`` migrates it."""
    database = EmbeddedDatabase(Path(directory) / "zwadmin.sqlite3")
    database.manage("migrate", "--no-input", "--verbosity", "0")
    return database


def node_environment(overrides: dict[str, str | None] | None = None) -> dict[str, str]:
    """The environment of a production node: production settings, the test database and Redis.

    ``overrides`` replace or (with ``None``) remove variables.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_CONFIG_PREFIXES) and name not in _CONFIG_NAMES
    }
    env.update(
        DJANGO_SETTINGS_MODULE="zwadmin.settings",
        DJANGO_SECRET_KEY=TEST_SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_NUM_PROXIES="1",  # as behind one nginx
        DJANGO_CONN_MAX_AGE="0",  # no connection outlives a request: the test database can be dropped at the end
    )
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = shared_database_url()
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self):
        return orjson.loads(self.body)


@dataclass
class Node:
    """One app server (granian's main process and its workers) on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen
    log_path: Path

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None, timeout: float = 30
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        return self.request("POST", path, **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """granian's worker processes: the children of the node's process (its pid stays that of the server)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []


def start_node(
    stack: ExitStack,
    *,
    env: dict[str, str | None] | None = None,
    workers: int | None = 2,
    timeout: float = 30,
    threads: int | None = None,
    args: tuple[str, ...] = (),
) -> Node:
    """Start the production server (``python -m zwadmin.serve``); stopped when ``stack`` closes.

    ``workers`` and ``threads`` (Django's threads per worker): None leaves them to the node's environment and the
    server's defaults (zwadmin/serve.py). ``args``: more of granian's options.
    Returns once the node answers HTTP (any status: a node may be meant to be unhealthy).
    """
    port = free_port()
    log_fd, log_name = tempfile.mkstemp(prefix=f"zwadmin-node-{port}-", suffix=".log")
    stack.callback(os.unlink, log_name)
    command = [sys.executable, "-m", SERVER_MODULE, "--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--blocking-threads", str(threads)]
    with os.fdopen(log_fd, "wb") as log_file:
        process = subprocess.Popen(
            [*command, *args],
            cwd=PROJECT_DIR,
            env=node_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: _stop can end its workers too
        )
    stack.callback(_stop, process)
    node = Node(port=port, process=process, log_path=Path(log_name))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app node on port {port} exited with {process.returncode}:\n{node.log()[-3000:]}")
        try:
            node.get("/healthz", timeout=5)
            return node
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"app node on port {port} did not answer within {timeout} s:\n{node.log()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # granian stops its workers (each finishes its requests) and exits
    try:
        process.wait(timeout=40)  # longer than a stuck worker is given before granian kills it (30 s)
    except subprocess.TimeoutExpired:
        pass
    try:  # whatever is left of the node, workers included: none may outlive the test
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


def collect_static(static_root: Path) -> None:
    """``collectstatic`` with the production storage (hashed, compressed names) into ``static_root``."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
        cwd=PROJECT_DIR,
        env=node_environment({"DJANGO_STATIC_ROOT": str(static_root)}),
        check=True,
        capture_output=True,
        timeout=120,
    )


@dataclass
class Browser:
    """A cookie jar that follows a person from node to node, as a load balancer may send them.

    Speaks to the nodes as nginx would forward HTTPS: ``X-Forwarded-Proto: https``. Secure cookies are
    kept and sent (http.cookiejar would drop them over the plain-HTTP test connection).
    """

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, node: Node, method: str, path: str, *, form: dict | None = None, headers: dict | None = None):
        headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{node.port}", **(headers or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Origin", f"https://127.0.0.1:{node.port}")
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = node.request(method, path, body=body, headers=headers)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    def get(self, node: Node, path: str, **kwargs) -> Response:
        return self.request(node, "GET", path, **kwargs)

    def post(self, node: Node, path: str, form: dict, **kwargs) -> Response:
        form = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}
        return self.request(node, "POST", path, form=form, **kwargs)
