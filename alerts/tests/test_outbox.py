"""Delivery that loses nothing and sends nothing twice: retries with backoff after a 5xx or a timeout, giving up
after a day (shown in the console), and a crash between the request and its record."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from alerts.models import MessageStatus, OutboxMessage
from alerts.services import backoff, outbox_drain, sending_lease

from .conftest import texts


@pytest.fixture
def queued(make_customer, report_from, make_channel):
    """One silent customer and a WeCom channel: the next run queues one message."""
    report_from(make_customer(), ago=datetime.timedelta(hours=50))
    return make_channel()


def later(minutes):
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False)


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() // 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_5xx_is_retried_with_backoff_until_the_robot_recovers(queued, robots, run_alerts):
    robots.script = [500, 503]

    run_alerts()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.PENDING, 1, "HTTP 500")
    first_retry = message.next_attempt_at

    outbox_drain()  # not due yet: nothing is tried
    assert OutboxMessage.objects.get().attempts == 1
    with later(2):
        outbox_drain()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.PENDING, 2, "HTTP 503")
    assert message.next_attempt_at - first_retry >= datetime.timedelta(minutes=1)

    with later(10):
        outbox_drain()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 3, "")
    assert len(robots.messages) == 1


def test_a_timeout_is_retried_and_the_message_arrives_when_the_robot_recovers(queued, robots, run_alerts, settings):
    robots.script = ["hang"]  # answers after 3 s; the sender waits 1 s (ALERTS_SEND_TIMEOUT_SECONDS)

    run_alerts()
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == (MessageStatus.PENDING, "超时")

    with later(2):
        outbox_drain()

    assert OutboxMessage.objects.get().status == MessageStatus.SENT
    assert "【触发】服务器失联" in texts(robots.messages)[-1]


def test_a_refusal_is_not_retried(queued, robots, run_alerts):
    robots.script = [{"errcode": 93000, "errmsg": "invalid webhook url"}]

    run_alerts()
    with later(5):
        outbox_drain()

    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)


def test_after_a_day_of_failures_it_gives_up_and_the_console_shows_why(queued, robots, run_alerts, admin_client):
    robots.script = [502] * 100

    run_alerts()
    for hours in (1, 6, 12, 20, 25):
        with time_machine.travel(timezone.now() + datetime.timedelta(hours=hours), tick=False):
            outbox_drain()

    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.FAILED
    assert message.last_error == "连续一天发送失败，已放弃。最近错误：HTTP 502"
    assert robots.messages == []
    channels = admin_client.get("/admin/alerts/channel/").content.decode()
    assert "1 message not delivered" in channels
    problems = admin_client.get("/admin/alerts/outboxmessage/?status=problem").content.decode()
    assert "HTTP 502" in problems


def test_a_crash_between_send_and_record_never_sends_the_message_twice(queued, robots, run_alerts, monkeypatch):
    import alerts.services

    def crash(channel, message):
        alerts.channels.send(channel, message)  # the robot gets it …
        raise SystemExit("killed")  # … and the process dies before recording it

    monkeypatch.setattr(alerts.services, "send", crash)
    with pytest.raises(SystemExit):
        run_alerts()
    monkeypatch.undo()
    assert OutboxMessage.objects.get().status == MessageStatus.SENDING

    outbox_drain()  # another node, at once: the message is someone's, left alone
    with time_machine.travel(timezone.now() + sending_lease() + datetime.timedelta(seconds=1), tick=False):
        outbox_drain()
        outbox_drain()

    assert len(robots.messages) == 1
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.UNCONFIRMED
    assert message.last_error == "发送过程中发送程序中断：消息可能已送达，也可能没有。"


def test_an_operator_sends_a_failed_message_again(queued, robots, run_alerts, admin_client):
    robots.script = [{"errcode": 93000, "errmsg": "invalid webhook url"}]
    run_alerts()
    message = OutboxMessage.objects.get()

    admin_client.post(
        "/admin/alerts/outboxmessage/", {"action": "resend_selected", "_selected_action": [message.pk]}, follow=True
    )
    outbox_drain()

    assert OutboxMessage.objects.get().status == MessageStatus.SENT
    assert len(robots.messages) == 1


def test_a_disabled_channel_keeps_its_messages_waiting(queued, robots):
    from alerts.services import alerts_evaluate

    alerts_evaluate()
    queued.enabled = False
    queued.save()

    outbox_drain()
    assert OutboxMessage.objects.get().status == MessageStatus.PENDING

    queued.enabled = True
    queued.save()
    outbox_drain()
    assert OutboxMessage.objects.get().status == MessageStatus.SENT
