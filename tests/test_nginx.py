"""The committed nginx example in front of a production node (deploy/nginx/).

Skipped where nginx is not installed (`apt-get install nginx`; .ci/run installs it when it can).
"""

import os
import re
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack
from http import HTTPStatus
from pathlib import Path

import pytest

from tests.nodes import PROJECT_DIR, Node, free_port, needs_postgresql, start_node

from .test_serving import (
    KB,
    MB,
    REQUEST_LINE_OVERHEAD,
    assert_answered_by_django,
    logged,
    padded_target,
    raw_request,
)

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
DEPLOY = PROJECT_DIR / "deploy" / "nginx"

pytestmark = [*needs_postgresql, pytest.mark.skipif(not NGINX, reason="needs nginx")]


def committed_upstream(port: int) -> str:
    """The site example's ``upstream`` block (keepalive and all), pointed at the test's node."""
    block = re.search(r"^upstream zwadmin \{.*?^\}", (DEPLOY / "zwadmin.conf").read_text(), re.M | re.S).group(0)
    assert "server 127.0.0.1:8000 " in block
    return block.replace("server 127.0.0.1:8000 ", f"server 127.0.0.1:{port} ")


def nginx_config(tmp: Path, listen_port: int, upstream_port: int) -> str:
    temp_paths = "\n".join(
        f"  {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
{"user root;" if os.geteuid() == 0 else ""}
pid {tmp / "nginx.pid"};
events {{}}
http {{
  access_log {tmp / "access.log"};
{temp_paths}
{committed_upstream(upstream_port)}
  server {{
    listen 127.0.0.1:{listen_port};
    server_name 127.0.0.1;
    include {DEPLOY / "zwadmin-proxy.conf"};
  }}
}}
"""


@pytest.fixture(scope="module")
def proxy(django_db_setup, tmp_path_factory):
    """nginx with the committed limits, in front of one node; yields (nginx's port, the node)."""
    tmp = tmp_path_factory.mktemp("nginx")
    with ExitStack() as stack:
        node = start_node(stack)
        port = free_port()
        (tmp / "nginx.conf").write_text(nginx_config(tmp, port, node.port))
        process = subprocess.Popen(
            [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        stack.callback(process.wait, timeout=10)
        stack.callback(process.terminate)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error_log = tmp / "error.log"
                    log = error_log.read_text() if error_log.exists() else ""
                    raise RuntimeError(f"nginx did not start: {log}") from None
                time.sleep(0.05)
        yield Node(port=port, process=process, log_path=tmp / "error.log"), node


def test_a_64_kb_request_line_passes_nginx_and_the_app_server(proxy):
    nginx, _ = proxy

    response = nginx.get(padded_target("/api/customer/info?code=9999999", 64 * KB - REQUEST_LINE_OVERHEAD))

    assert_answered_by_django(response)
    assert response.status == HTTPStatus.NOT_FOUND


def test_nginx_refuses_a_multi_megabyte_url_at_once(proxy):
    nginx, _ = proxy
    request = b"GET /api/user/commit?data=" + b"a" * (6 * MB) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    elapsed, status_line = raw_request(nginx.port, request)

    assert status_line.split()[1] in {b"414", b"400"}, status_line
    assert elapsed < 1.0


def test_an_8_mb_body_passes_nginx(proxy):
    nginx, _ = proxy
    body = b"data=" + b"x" * (8 * MB)  # not JSON: the app reads it all, then says so

    response = nginx.post(
        "/api/user/commit", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=60
    )

    assert_answered_by_django(response)


def test_a_body_over_the_limit_is_refused_by_nginx_before_it_is_sent(proxy):
    nginx, _ = proxy
    request = (
        b"POST /api/user/commit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40000000\r\n\r\n"
    )

    elapsed, status_line = raw_request(nginx.port, request)

    assert status_line.split()[1] == b"413", status_line
    assert elapsed < 1.0


def test_a_lookup_body_over_4_kb_is_refused_by_nginx_and_a_small_one_passes(proxy):
    nginx, _ = proxy
    request = (
        b"POST /api/customer/info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 30000000\r\n\r\n"
    )

    _elapsed, status_line = raw_request(nginx.port, request)

    assert status_line.split()[1] == b"413", status_line
    response = nginx.post(
        "/api/customer/info", body=b"code=0513999", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_answered_by_django(response)


def test_the_client_cannot_write_its_own_forwarded_for(proxy):
    nginx, node = proxy

    nginx.get("/healthz?probe=forwarded", headers={"X-Forwarded-For": "10.1.2.3"})

    (line,) = logged(node, path="/healthz", query_bytes=len("probe=forwarded"))
    assert line["forwarded_for"] == "127.0.0.1"  # the address nginx saw, nothing the client wrote
    assert line["client"] == "127.0.0.1"
    assert line["request_id"]


def established_connections_to(port: int) -> int:
    """TCP connections open to 127.0.0.1:``port`` (from /proc/net/tcp: state 01, established)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == "01" and int(remote.split(":")[1], 16) == port:
            count += 1
    return count


def test_nginx_keeps_its_connections_to_the_app_server_open_between_requests(proxy):
    nginx, node = proxy

    for _ in range(5):
        assert nginx.get("/healthz").status == HTTPStatus.OK

    # Each answer is in, yet nginx holds a connection to the node, ready for the next request.
    assert established_connections_to(node.port) >= 1


def test_nginx_gives_up_an_idle_connection_before_the_app_server_closes_it():
    site = (DEPLOY / "zwadmin.conf").read_text()
    nginx_idle = int(re.search(r"^\s*keepalive_timeout (\d+)s;", site, re.M).group(1))
    # granian closes a connection idle for its header read timeout: 30 s unless GRANIAN_HTTP1_HEADER_READ_TIMEOUT
    # (milliseconds) says otherwise, and zwadmin/serve.py leaves it so.
    assert "HTTP1_HEADER_READ_TIMEOUT" not in (PROJECT_DIR / "zwadmin" / "serve.py").read_text()

    assert nginx_idle < 30


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl for a throwaway certificate")
def test_the_site_example_is_valid_nginx(tmp_path):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=console.example.com"]
        + ["-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "zwadmin.conf").read_text()
    site = site.replace("snippets/zwadmin-proxy.conf", str(DEPLOY / "zwadmin-proxy.conf"))
    site = site.replace("/etc/letsencrypt/live/console.example.com/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\nhttp {{ include {tmp_path / 'site.conf'}; }}\n"
    )

    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
