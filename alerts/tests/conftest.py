"""Fixtures of the alerts' tests: real receivers, channels pointed at them, and one run of ``run_alerts``."""

import datetime

import pytest
from django.utils import timezone

from alerts.models import Channel, ChannelKind, Rule
from alerts.services import alerts_evaluate, outbox_drain, rules_by_key

from .receivers import RobotReceiver, SmtpReceiver


@pytest.fixture
def robots():
    receiver = RobotReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp(settings):
    receiver = SmtpReceiver().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", receiver.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield receiver
    receiver.stop()


@pytest.fixture(autouse=True)
def _alert_settings(settings):
    settings.PUBLIC_URL = "https://console.example.com"
    settings.ALERTS_SEND_TIMEOUT_SECONDS = 1


@pytest.fixture
def make_channel(db, robots):
    """A channel subscribed to the given rules (all by default); robots post to the ``robots`` receiver."""

    def make(kind=ChannelKind.WECOM, *, rules=None, name=None, secret="", **fields):
        rules_by_key()  # a transactional test's flush empties the rules the migration made
        if kind != ChannelKind.EMAIL:
            path = f"/{kind}/hook-{Channel.objects.count() + 1}"
            fields.setdefault("webhook_url", robots.url(path))
            if secret:
                robots.secrets[path] = secret
        channel = Channel.objects.create(name=name or str(kind), kind=kind, secret=secret, **fields)
        channel.rules.set(Rule.objects.filter(key__in=rules) if rules is not None else Rule.objects.all())
        return channel

    return make


@pytest.fixture
def rule(db):
    """The rule of a key, with a threshold or enabled state set when given."""

    def get(key, **fields):
        found = rules_by_key()[key]
        for name, value in fields.items():
            setattr(found, name, value)
        if fields:
            found.save()
        return found

    return get


@pytest.fixture
def run_alerts(db):
    """One run of ``manage.py run_alerts``: evaluate, then send what is due (at ``now``, real time by default)."""

    def run(now: datetime.datetime | None = None):
        now = now or timezone.now()
        evaluation = alerts_evaluate(now=now)
        return evaluation, outbox_drain(now=now)

    return run


def texts(messages: list[dict]) -> list[str]:
    """The text of each WeCom robot message received."""
    return [message["markdown"]["content"] for message in messages]
