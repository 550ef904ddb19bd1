"""Two nodes running ``manage.py run_alerts`` at the same moment on one PostgreSQL: every alert opens once and
every message is sent once (rules taken FOR UPDATE SKIP LOCKED, messages claimed one by one, SKIP LOCKED)."""

import datetime
import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings

from alerts.models import Alert, MessageStatus, OutboxMessage
from tests.nodes import PROJECT_DIR, needs_postgresql, node_environment

from .conftest import texts

# Committed rows (transaction=True), which the other processes can see; PostgreSQL only (needs_postgresql's skip).
pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql[-1]]


def run_alerts_twice_at_once() -> list[str]:
    env = node_environment({"ZWADMIN_PUBLIC_URL": "https://console.example.com", "DJANGO_LOG_LEVEL": "WARNING"})
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_alerts"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    return outputs


def test_two_nodes_at_once_open_each_alert_once_and_send_each_message_once(
    make_customer, report_from, make_channel, robots
):
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    codes = [f"051300{n}" for n in range(4)]
    customers = [make_customer(code=code) for code in codes]
    for customer in customers:
        report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel(name="one")
    make_channel(name="two")

    for _round in range(2):  # the second round finds nothing new: nothing more is sent
        run_alerts_twice_at_once()

    assert Alert.objects.filter(resolved_at__isnull=True).count() == 4
    assert Counter(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT: 8}
    received = Counter((r.path, r.body["markdown"]["content"].splitlines()[0]) for r in robots.received)
    assert len(received) == 8 and set(received.values()) == {1}, received

    for customer in customers[:2]:
        report_from(customer)
    run_alerts_twice_at_once()

    resolved = sorted(text.splitlines()[0] for text in texts(robots.messages) if text.startswith("**【恢复】"))
    assert resolved == sorted(
        f"**【恢复】服务器失联：{code} 江苏中威科技**" for code in codes[:2] for _channel in (1, 2)
    )
