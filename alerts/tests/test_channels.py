"""The channels, each against a real peer: the three robots' formats and signatures (an HTTP receiver that
checks as the vendors do), e-mail through a real SMTP server, the engineer filter, quiet hours and digests,
the test message, and the secrets that never come back out."""

import datetime
import logging

import pytest
import time_machine
from django.utils import timezone

from alerts.models import ChannelKind, MessageStatus, OutboxMessage, RuleKey
from alerts.services import BURST, channel_test

from .conftest import texts

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def silent_customer(make_customer, report_from):
    customer = make_customer(service_engineer="宋卫南")
    report_from(customer, ago=datetime.timedelta(hours=50))
    return customer


def test_wecom_gets_a_markdown_message(silent_customer, make_channel, robots, run_alerts):
    make_channel(ChannelKind.WECOM)

    run_alerts()

    (received,) = robots.received
    assert received.path == "/wecom/hook-1"
    assert received.body["msgtype"] == "markdown"
    assert received.body["markdown"]["content"].startswith("**【触发】服务器失联：0513001 江苏中威科技**\n> 客户：")


def test_dingtalk_gets_a_signed_markdown_message(silent_customer, make_channel, robots, run_alerts):
    make_channel(ChannelKind.DINGTALK, secret="SEC0123456789abcdef0123456789abcdef")

    run_alerts()

    (received,) = robots.received  # the receiver posts only what it verified (timestamp within an hour, sign)
    assert set(received.query) == {"timestamp", "sign"}
    markdown = received.body["markdown"]
    assert received.body["msgtype"] == "markdown"
    assert markdown["title"] == "【触发】服务器失联：0513001 江苏中威科技"
    assert "> 负责服务人员：宋卫南" in markdown["text"]
    assert OutboxMessage.objects.get().status == MessageStatus.SENT


def test_a_wrong_dingtalk_secret_fails_the_message_with_the_robots_words(
    silent_customer, make_channel, robots, run_alerts
):
    channel = make_channel(ChannelKind.DINGTALK, secret="SEC-right")
    channel.secret = "SEC-wrong"
    channel.save()

    run_alerts()

    assert robots.received == []
    message = OutboxMessage.objects.get()
    assert message.status == MessageStatus.FAILED  # a refusal is final: no retry
    assert message.last_error == "机器人拒收消息：310000 sign not match"


def test_feishu_gets_a_signed_post(silent_customer, make_channel, robots, run_alerts):
    channel = make_channel(ChannelKind.FEISHU, secret="feishu-secret")

    run_alerts()

    (received,) = robots.received
    body = received.body
    assert body["msg_type"] == "post" and body["timestamp"].isdigit() and body["sign"]
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "【触发】服务器失联：0513001 江苏中威科技"
    assert post["content"][0] == [{"tag": "text", "text": "客户：0513001 江苏中威科技"}]
    assert post["content"][-1] == [
        {
            "tag": "a",
            "text": "在控制台查看",
            "href": f"https://console.example.com/admin/customers/customer/{silent_customer.pk}/change/",
        }
    ]
    assert channel.pk


def test_email_goes_through_a_real_smtp_server(silent_customer, make_channel, smtp, run_alerts):
    make_channel(ChannelKind.EMAIL, recipients="ops@example.com, song@example.com\nnoc@example.com")

    run_alerts()

    ((recipients, mail),) = smtp.messages
    assert recipients == ["ops@example.com", "song@example.com", "noc@example.com"]
    assert mail["Subject"].strip() == "【触发】服务器失联：0513001 江苏中威科技"  # folded: a long encoded word
    assert mail["Message-ID"] == f"<{OutboxMessage.objects.get().key}@zwadmin>"
    body = mail.get_content().replace("\r\n", "\n")
    assert "客户：0513001 江苏中威科技\n负责服务人员：宋卫南\n告警内容：超过 48 小时无上报" in body
    assert f"https://console.example.com/admin/customers/customer/{silent_customer.pk}/change/" in body


def test_a_channel_for_one_engineer_hears_only_of_that_engineer_s_customers(
    make_customer, report_from, make_channel, robots, run_alerts
):
    for code, engineer in (("0513001", "宋卫南"), ("0512003", "李强")):
        report_from(make_customer(code=code, service_engineer=engineer), ago=datetime.timedelta(hours=50))
    make_channel(name="song", service_engineer="宋卫南")

    run_alerts()

    assert [text.splitlines()[0] for text in texts(robots.messages)] == ["**【触发】服务器失联：0513001 江苏中威科技**"]


def test_a_channel_hears_only_the_rules_it_subscribes_to(silent_customer, make_channel, robots, run_alerts):
    make_channel(rules=[RuleKey.MAC_MISMATCH])

    run_alerts()

    assert robots.messages == []


def test_messages_wait_through_quiet_hours_for_a_morning_digest(make_customer, report_from, make_channel, robots):
    from alerts.services import alerts_evaluate, outbox_drain

    make_channel(quiet_start=datetime.time(22), quiet_end=datetime.time(8))
    night = datetime.datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)
    with time_machine.travel(night, tick=False):
        for code in ("0513001", "0512003"):
            report_from(make_customer(code=code), ago=datetime.timedelta(hours=50))
        alerts_evaluate()
        outbox_drain()
    with time_machine.travel(night + datetime.timedelta(hours=8), tick=False):  # 07:30: still quiet
        outbox_drain()
    assert robots.messages == []

    with time_machine.travel(datetime.datetime(2026, 3, 3, 8, 0, 5, tzinfo=SHANGHAI), tick=False):
        outbox_drain()

    (text,) = texts(robots.messages)
    assert text.splitlines()[:3] == [
        "**【汇总】免打扰时段内的 2 条告警消息**",
        "> 【触发】服务器失联：0513001 江苏中威科技（2026-03-02 23:30）",
        "> 【触发】服务器失联：0512003 江苏中威科技（2026-03-02 23:30）",
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.DIGESTED, MessageStatus.SENT}


def test_a_burst_goes_out_as_one_digest(make_customer, report_from, make_channel, robots, run_alerts):
    for number in range(BURST + 2):
        report_from(make_customer(code=f"051300{number}"), ago=datetime.timedelta(hours=50))
    make_channel()

    run_alerts()

    (text,) = texts(robots.messages)
    assert text.startswith(f"**【汇总】{BURST + 2} 条告警消息**")
    assert text.count("【触发】服务器失联") == BURST + 2


def test_send_test_message_from_the_console(make_channel, robots, admin_client):
    channel = make_channel(name="运维群")

    response = admin_client.post(
        "/admin/alerts/channel/", {"action": "send_test", "_selected_action": [channel.pk]}, follow=True
    )

    assert "test message sent" in response.content.decode()
    (text,) = texts(robots.messages)
    assert text.startswith("**【测试】zwadmin 告警通知渠道**\n> 收到这条测试消息，说明通知渠道“运维群”配置正确。")
    assert OutboxMessage.objects.get().kind == "test"


def test_a_failing_test_message_says_why(make_channel, robots):
    channel = make_channel()
    robots.script = [{"errcode": 93000, "errmsg": "invalid webhook url"}]

    message = channel_test(channel=channel)

    assert (message.status, message.last_error) == (MessageStatus.FAILED, "机器人拒收消息：93000 invalid webhook url")


def test_webhook_url_and_secret_are_write_only_in_the_console(make_channel, admin_client):
    channel = make_channel(ChannelKind.DINGTALK, secret="SECtopsecret")
    secret_url = channel.webhook_url

    page = admin_client.get(f"/admin/alerts/channel/{channel.pk}/change/").content.decode()

    assert "SECtopsecret" not in page and secret_url not in page
    assert "Leave empty to keep it" in page

    form = {
        "name": channel.name,
        "kind": channel.kind,
        "enabled": "on",
        "recipients": "",
        "webhook_url": "",
        "secret": "",
        "rules": [],
        "service_engineer": "李强",
    }
    response = admin_client.post(f"/admin/alerts/channel/{channel.pk}/change/", form)

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.webhook_url, channel.secret, channel.service_engineer) == (secret_url, "SECtopsecret", "李强")


def test_secrets_never_reach_the_log(silent_customer, make_channel, robots, run_alerts, caplog):
    make_channel(ChannelKind.DINGTALK, secret="SECtopsecret")
    robots.script = [500, "hang"]

    with caplog.at_level(logging.DEBUG):
        run_alerts()
        run_alerts(timezone.now() + datetime.timedelta(minutes=5))

    logged = caplog.text + "".join(OutboxMessage.objects.values_list("last_error", flat=True))
    assert "SECtopsecret" not in logged and "hook-dingtalk" not in logged and "sign=" not in logged
    assert "HTTP 500" in logged and "超时" in logged


def test_a_robot_channel_needs_its_webhook_and_an_email_channel_valid_addresses(admin_client, db):
    response = admin_client.post(
        "/admin/alerts/channel/add/", {"name": "x", "kind": "wecom", "enabled": "on", "rules": []}
    )
    assert "A robot needs its webhook URL." in response.content.decode()

    response = admin_client.post(
        "/admin/alerts/channel/add/", {"name": "y", "kind": "email", "recipients": "ops@, noc@example.com", "rules": []}
    )
    assert "“ops@” is not an e-mail address." in response.content.decode()
