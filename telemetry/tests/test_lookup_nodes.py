"""The lookup cache across processes: two app servers sharing one database and one Redis.

An edit made in the console must be visible on the very next lookup from any
worker of any node, so the cached answer has to live in Redis and be
refreshed after the edit commits; a per-process cache would fail this test.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from http import HTTPStatus

import orjson
import pytest
from django.conf import settings
from django.db import connection

from customers import services

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor != "postgresql",
        reason="needs a shared database and Redis: set DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lookup(port: int, code: str) -> tuple[int, dict]:
    url = f"http://127.0.0.1:{port}/api/customer/info?code={code}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def _start_node(stack: ExitStack, database_url: str) -> int:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zwadmin.settings",
        "DJANGO_SECRET_KEY": "test-only-secret-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zwadmin.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(process.wait, timeout=10)
    stack.callback(process.terminate)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"app node on port {port} did not start")


@pytest.fixture
def two_nodes(transactional_db):
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with ExitStack() as stack:
        yield _start_node(stack, database_url), _start_node(stack, database_url)


def test_an_edit_in_the_console_is_seen_at_once_by_every_node(two_nodes, make_customer):
    node_a, node_b = two_nodes
    customer = make_customer(code="0513001", name="江苏中威科技", tcphost="61.155.85.77")
    for node in two_nodes:  # warm every worker's view of the cache
        for _ in range(4):
            assert _lookup(node, "0513001") == (HTTPStatus.OK, _lookup(node_a, "0513001")[1])

    services.customer_update(customer=customer, data={"tcphost": "im.zwtx.cn", "name": "中威通讯"})

    for node in (node_a, node_b, node_a, node_b):
        status, body = _lookup(node, "0513001")
        assert (status, body["tcphost"], body["name"]) == (HTTPStatus.OK, "im.zwtx.cn", "中威通讯")

    services.customer_remove(customer=customer)

    assert [_lookup(node, "0513001")[0] for node in (node_a, node_b, node_a, node_b)] == [HTTPStatus.NOT_FOUND] * 4
