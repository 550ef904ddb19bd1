"""Real peers for the alerts' tests: an HTTP server that answers as each group robot does, and an SMTP server.

``RobotReceiver`` checks what the vendors check — DingTalk's and Feishu's signatures, the JSON body — and answers
in their formats; a test can make it fail (an HTTP status), hang past the sender's timeout, or refuse. Both run
in a thread of the test process on 127.0.0.1 and record what they received.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.nodes import free_port

ONE_HOUR_MS = 3600 * 1000


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict


@dataclass
class RobotReceiver:
    """Answers ``POST /wecom/…``, ``/dingtalk/…``, ``/feishu/…`` as that robot would.

    ``secrets`` maps a path to the signing secret the robot was set up with (DingTalk, Feishu);
    ``script`` is a list of what to do with the next requests: an HTTP status (500 …), "hang" (answer after the
    sender's timeout), or a dict to answer as JSON. Once it is empty, requests succeed.
    """

    secrets: dict[str, str] = field(default_factory=dict)
    script: list = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 3.0

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    @property
    def messages(self) -> list[dict]:
        return [r.body for r in self.received]

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        body = json.loads(request.rfile.read(int(request.headers["Content-Length"])))
        action = self.script.pop(0) if self.script else None
        if action == "hang":
            time.sleep(self.hang_seconds)
            self._answer(request, 200, {"errcode": 0, "errmsg": "ok"})
            return
        if isinstance(action, int):
            self._answer(request, action, {"error": "scripted failure"})
            return
        if isinstance(action, dict):
            self._answer(request, 200, action)
            return
        robot = parts.path.split("/")[1]
        problem = self.check(robot, parts.path, query, body)
        if problem:
            self._answer(request, 200, problem)
            return
        self.received.append(Received(parts.path, query, body))
        self._answer(
            request, 200, {"code": 0, "msg": "success"} if robot == "feishu" else {"errcode": 0, "errmsg": "ok"}
        )

    def check(self, robot: str, path: str, query: dict, body: dict) -> dict | None:
        """What the vendor would refuse, in its words; None when it would post the message."""
        secret = self.secrets.get(path)
        if robot == "wecom":
            ok = body.get("msgtype") == "markdown" and len(body["markdown"]["content"].encode()) <= 4096
            return None if ok else {"errcode": 40008, "errmsg": "invalid message type"}
        if robot == "dingtalk":
            if secret:
                timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
                expected = base64.b64encode(
                    hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
                ).decode()
                if (
                    not timestamp.isdigit()
                    or abs(time.time() * 1000 - int(timestamp)) > ONE_HOUR_MS
                    or sign != expected
                ):
                    return {"errcode": 310000, "errmsg": "sign not match"}
            ok = body.get("msgtype") == "markdown" and body["markdown"].get("title") and body["markdown"].get("text")
            return None if ok else {"errcode": 40035, "errmsg": "missing parameter"}
        if robot == "feishu":
            if secret:
                timestamp = body.get("timestamp", "")
                expected = base64.b64encode(
                    hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
                ).decode()
                if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 3600 or body.get("sign") != expected:
                    return {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour from current time",
                    }
            post = body.get("content", {}).get("post", {}).get("zh_cn", {})
            ok = body.get("msg_type") == "post" and post.get("title") and post.get("content")
            return None if ok else {"code": 19002, "msg": "params error"}
        return {"errcode": 404, "errmsg": "unknown robot"}

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass  # the sender gave up waiting (the "hang" script)


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; ``messages``: (recipients, parsed e-mail) as received."""

    def __init__(self):
        self.mailbox = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    @property
    def messages(self):
        return self.mailbox.messages
