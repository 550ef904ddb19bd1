"""The console's alert pages: who may do what (运维 / 技术支持), the filters, silencing with a reason, in Chinese."""

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from alerts.models import Alert, RuleKey

# The role groups of console.roles (above this app: named, not imported).
OPERATIONS, SUPPORT = "运维", "技术支持"


@pytest.fixture
def alert(make_customer, report_from, run_alerts, make_channel):
    customer = make_customer(service_engineer="宋卫南")
    report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel()
    run_alerts()
    return Alert.objects.get()


PAGES = ["/admin/alerts/alert/", "/admin/alerts/rule/", "/admin/alerts/channel/", "/admin/alerts/outboxmessage/"]


def test_support_sees_alerts_and_nothing_else_of_them(alert, member, console_client):
    client = console_client(member(SUPPORT))

    assert client.get("/admin/alerts/alert/").status_code == HTTPStatus.OK
    page = client.get(f"/admin/alerts/alert/{alert.pk}/change/")
    assert page.status_code == HTTPStatus.OK and b'name="_save"' not in page.content
    for path in PAGES[1:]:
        assert client.get(path).status_code == HTTPStatus.FORBIDDEN
    response = client.post("/admin/alerts/alert/", {"action": "acknowledge_selected", "_selected_action": [alert.pk]})
    assert Alert.objects.get().acknowledged_at is None
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)


def test_operations_acknowledge_silence_and_manage_rules_and_channels(alert, member, console_client):
    user = member(OPERATIONS)
    client = console_client(user)
    for path in PAGES:
        assert client.get(path).status_code == HTTPStatus.OK, path
    assert client.get("/admin/alerts/channel/add/").status_code == HTTPStatus.OK

    client.post("/admin/alerts/alert/", {"action": "acknowledge_selected", "_selected_action": [alert.pk]})
    until = timezone.localdate() + datetime.timedelta(days=7)
    refused = client.post(f"/admin/alerts/alert/{alert.pk}/change/", {"silenced_until": until, "silence_reason": ""})
    assert b"Say why it is silenced." in refused.content
    client.post(f"/admin/alerts/alert/{alert.pk}/change/", {"silenced_until": until, "silence_reason": "机房搬迁"})

    alert.refresh_from_db()
    assert alert.acknowledged_by == user and alert.silenced_by == user
    assert (alert.silenced_until, alert.silence_reason) == (until, "机房搬迁")
    assert client.get("/admin/alerts/alert/add/").status_code == HTTPStatus.FORBIDDEN  # alerts come from rules


def test_operators_change_a_threshold_in_the_console(member, console_client, db):
    from alerts.services import rules_by_key

    rule = rules_by_key()[RuleKey.NEVER_REPORTED]
    client = console_client(member(OPERATIONS))

    page = client.get(f"/admin/alerts/rule/{rule.pk}/change/").content.decode()
    assert "days; empty: 7" in page
    client.post(f"/admin/alerts/rule/{rule.pk}/change/", {"enabled": "on", "threshold": "14"})

    rule.refresh_from_db()
    assert rule.threshold == 14


@pytest.mark.parametrize(
    ("query", "shown"),
    [("state=open", True), ("state=resolved", False), ("engineer=宋卫南", True), ("engineer=李强", False)],
)
def test_the_alert_list_filters(alert, admin_client, query, shown):
    page = admin_client.get(f"/admin/alerts/alert/?{query}").content.decode()

    assert ("0513001 江苏中威科技" in page) is shown


def test_the_alert_pages_speak_chinese(alert, admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    page = admin_client.get("/admin/alerts/alert/").content.decode()
    detail = admin_client.get(f"/admin/alerts/alert/{alert.pk}/change/").content.decode()
    channels = admin_client.get("/admin/alerts/channel/").content.decode()

    for text in ("告警", "服务器失联", "未恢复", "负责服务人员", "确认所选告警"):
        assert text in page, text
    assert "超过 48 小时无上报" in detail and "静默至" in detail and "告警触发" in detail
    assert "通知渠道" in channels and "向所选通知渠道发送测试消息" in channels
