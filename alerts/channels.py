"""Sending one message through one channel: e-mail (Django's mail backend) and the three group robots.

Each robot's request is its vendor's documented format (docs/alerts.md, "The robots' formats"):

- 企业微信 group robot: ``POST <webhook>`` ``{"msgtype": "markdown", "markdown": {"content": …}}``; answers
  ``{"errcode": 0, "errmsg": "ok"}``; content at most 4,096 bytes.
- 钉钉 custom robot: ``POST <webhook>&timestamp=<ms>&sign=<sign>`` ``{"msgtype": "markdown", "markdown":
  {"title": …, "text": …}}``; ``sign`` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")));
  answers ``{"errcode": 0, "errmsg": "ok"}``.
- 飞书 custom robot: ``POST <webhook>`` ``{"timestamp": "<s>", "sign": …, "msg_type": "post", "content":
  {"post": {"zh_cn": {"title": …, "content": [[{"tag": "text", …}], [{"tag": "a", …}]]}}}}``; ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")); answers ``{"code": 0, "msg": "success"}``.

A failure raises ``DeliveryFailed``: ``retry`` when trying again later may help (a timeout, no connection, a 5xx,
a 429, a robot's rate limit), not when the channel refused the message (a wrong key or signature, a bad address).
Its text never contains the webhook URL or the secret: errors are built here, not passed through.
"""

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from .models import Channel, ChannelKind, OutboxMessage

WECOM_MAX_BYTES = 4096
# The robots' "too many messages" answers: wait and send again (WeCom 45009, DingTalk 130101 and 660026,
# Feishu 9499 and 11232).
RATE_LIMITED = {45009, 130101, 660026, 9499, 11232}


class DeliveryFailed(Exception):
    def __init__(self, text: str, *, retry: bool):
        super().__init__(text)
        self.text = text
        self.retry = retry


def send(channel: Channel, message: OutboxMessage) -> None:
    """Deliver ``message`` through ``channel``, or raise ``DeliveryFailed``."""
    if channel.kind == ChannelKind.EMAIL:
        _send_email(channel, message)
    else:
        url, payload = ROBOTS[channel.kind](channel, message)
        _post(url, payload)


# --- e-mail -------------------------------------------------------------------------------------------------


def _send_email(channel: Channel, message: OutboxMessage) -> None:
    recipients = channel.recipient_list
    if not recipients:
        raise DeliveryFailed(_("no recipients"), retry=False)
    mail = EmailMessage(
        subject=message.title,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        # The same Message-ID for every attempt of this message: mail clients that see it twice show it once.
        headers={"Message-ID": f"<{message.key}@zwadmin>"},
    )
    try:
        get_connection(fail_silently=False, timeout=settings.ALERTS_SEND_TIMEOUT_SECONDS).send_messages([mail])
    except smtplib.SMTPResponseException as error:  # the server answered: 4xx is temporary, 5xx final
        raise DeliveryFailed(
            f"SMTP {error.smtp_code}: {_short(error.smtp_error)}", retry=error.smtp_code < 500
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _text in error.recipients.values()})
        raise DeliveryFailed(
            _("SMTP refused every recipient (%(codes)s)") % {"codes": codes}, retry=all(c < 500 for c in codes)
        ) from None
    except TimeoutError:
        raise DeliveryFailed(_("SMTP: timed out"), retry=True) from None
    except (OSError, smtplib.SMTPException) as error:  # no connection, connection lost
        raise DeliveryFailed(_("SMTP: no connection (%(kind)s)") % {"kind": type(error).__name__}, retry=True) from None


def _short(value) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text[:200]


# --- the robots ---------------------------------------------------------------------------------------------


def _markdown(message: OutboxMessage) -> str:
    lines = [f"**{message.title}**", *(f"> {line}" for line in message.lines)]
    if message.link:
        lines.append(f"[{_view_label(message)}]({message.link})")
    return "\n".join(lines)


def _view_label(message: OutboxMessage) -> str:
    return _("View in the console")


def _fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes at a character boundary."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[: limit - 3].decode("utf-8", "ignore") + "…"


def wecom(channel: Channel, message: OutboxMessage) -> tuple[str, dict]:
    return channel.webhook_url, {
        "msgtype": "markdown",
        "markdown": {"content": _fit(_markdown(message), WECOM_MAX_BYTES)},
    }


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's signature of a request: base64 of HMAC-SHA256 over "timestamp\\nsecret", keyed by the secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk(channel: Channel, message: OutboxMessage) -> tuple[str, dict]:
    url = channel.webhook_url
    if channel.secret:
        timestamp = str(round(time.time() * 1000))
        query = urllib.parse.urlencode({"timestamp": timestamp, "sign": dingtalk_sign(channel.secret, timestamp)})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    return url, {"msgtype": "markdown", "markdown": {"title": message.title, "text": _markdown(message)}}


def feishu_sign(secret: str, timestamp: str) -> str:
    """Feishu's signature: base64 of HMAC-SHA256 keyed by "timestamp\\nsecret", over an empty message."""
    return base64.b64encode(hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode("ascii")


def feishu(channel: Channel, message: OutboxMessage) -> tuple[str, dict]:
    content = [[{"tag": "text", "text": line}] for line in message.lines]
    if message.link:
        content.append([{"tag": "a", "text": _view_label(message), "href": message.link}])
    payload = {"msg_type": "post", "content": {"post": {"zh_cn": {"title": message.title, "content": content}}}}
    if channel.secret:
        timestamp = str(int(time.time()))
        payload = {"timestamp": timestamp, "sign": feishu_sign(channel.secret, timestamp), **payload}
    return channel.webhook_url, payload


ROBOTS = {ChannelKind.WECOM: wecom, ChannelKind.DINGTALK: dingtalk, ChannelKind.FEISHU: feishu}


def _post(url: str, payload: dict) -> None:
    try:
        url.encode("ascii")
    except UnicodeError:
        url = urllib.parse.quote(url, safe=":/?&=%#@+,;~!$'()*[]")
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.ALERTS_SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(65536)
    except urllib.error.HTTPError as error:
        retry = error.code >= 500 or error.code == 429
        raise DeliveryFailed(f"HTTP {error.code}", retry=retry) from None
    except TimeoutError:
        raise DeliveryFailed(_("timed out"), retry=True) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise DeliveryFailed(_("timed out"), retry=True) from None
        raise DeliveryFailed(_("no connection (%(kind)s)") % {"kind": type(reason).__name__}, retry=True) from None
    except ValueError:  # urllib refuses the URL itself
        raise DeliveryFailed(_("the webhook URL is not valid"), retry=False) from None
    except OSError as error:  # a connection reset while reading the answer
        raise DeliveryFailed(_("connection lost (%(kind)s)") % {"kind": type(error).__name__}, retry=True) from None
    try:
        answer = json.loads(body)
    except ValueError:
        raise DeliveryFailed(_("the robot's answer is not JSON"), retry=True) from None
    # WeCom and DingTalk answer errcode/errmsg, Feishu code/msg: 0 is success.
    code = answer.get("errcode", answer.get("code", 0)) if isinstance(answer, dict) else 0
    if code:
        text = str(answer.get("errmsg", answer.get("msg", "")))[:200]
        raise DeliveryFailed(
            _("the robot refused the message: %(code)s %(text)s") % {"code": code, "text": text},
            retry=code in RATE_LIMITED,
        )
