"""Every rule opens once when its condition starts, sends nothing more while it holds, and resolves when it ends,
with the messages a real robot receiver got (on SQLite and PostgreSQL: CI runs the suite on both)."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from alerts.models import Alert, Resolution, RuleKey
from telemetry.models import UnregisteredServer

from .conftest import texts

TODAY = timezone.localdate


@dataclass
class Case:
    rule: str
    enter: Callable
    leave: Callable
    says: str  # what the opening message says of the state


def _created_days_ago(customer, days):
    type(customer).objects.filter(pk=customer.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


def _licence(days):
    def set_timeout(customer, report_from):
        type(customer).objects.filter(pk=customer.pk).update(timeout=TODAY() + datetime.timedelta(days=days))

    return set_timeout


def _unregistered(customer, report_from):
    now = timezone.now()
    UnregisteredServer.objects.create(
        code="0999001", name="济南泉城热力", mac="B4:2E:99:5A:1C:07", count=64, first_seen_at=now, last_seen_at=now
    )


def _register_it(customer, report_from):
    type(customer).objects.create(code="0999001", name="济南泉城热力")


CASES = [
    Case(
        RuleKey.SILENT,
        lambda c, report_from: report_from(c, ago=datetime.timedelta(hours=50)),
        lambda c, report_from: report_from(c),
        "超过 48 小时无上报",
    ),
    Case(
        RuleKey.NEVER_REPORTED,
        lambda c, report_from: _created_days_ago(c, 8),
        lambda c, report_from: report_from(c),
        "之后从未上报",
    ),
    Case(RuleKey.LICENCE_FIRST, _licence(20), _licence(400), "许可证 30 天内到期"),
    Case(RuleKey.LICENCE_SECOND, _licence(5), _licence(400), "许可证 7 天内到期"),
    Case(RuleKey.LICENCE_LAST, _licence(1), _licence(400), "许可证 1 天内到期"),
    Case(RuleKey.LICENCE_EXPIRED, _licence(-1), _licence(400), "许可证已于"),
    Case(
        RuleKey.MAC_MISMATCH,
        lambda c, report_from: report_from(c, mac="3C:52:82:1D:09:B0"),
        lambda c, report_from: report_from(c, mac=c.mac),
        "MAC 与登记不一致（登记值：56:E8:F6:23:EF，上报值：3C:52:82:1D:09:B0）",
    ),
    Case(
        RuleKey.TIMEOUT_MISMATCH,
        lambda c, report_from: report_from(c, timeout=datetime.date(2099, 1, 1)),
        lambda c, report_from: report_from(c, timeout=datetime.date(2098, 1, 1)),
        "许可证到期日与登记不一致（登记值：2098-01-01，上报值：2099-01-01）",
    ),
    Case(RuleKey.UNREGISTERED, _unregistered, _register_it, "0999001（未登记）济南泉城热力"),
    Case(
        RuleKey.USER_COUNT,
        lambda c, report_from: (
            report_from(c, ago=datetime.timedelta(hours=30), count=1000),
            report_from(c, count=10),
        ),
        lambda c, report_from: report_from(c, count=1000),
        "用户数由 1,000",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_a_rule_opens_once_stays_quiet_while_it_holds_and_resolves(
    case, make_customer, report_from, make_channel, robots, run_alerts
):
    customer = make_customer(mac="56:E8:F6:23:EF", service_engineer="宋卫南", timeout=datetime.date(2098, 1, 1))
    if case.rule in (RuleKey.LICENCE_FIRST, RuleKey.LICENCE_SECOND, RuleKey.LICENCE_LAST, RuleKey.LICENCE_EXPIRED):
        customer.timeout = None  # only the licence moves in these cases
        type(customer).objects.filter(pk=customer.pk).update(timeout=None)
    make_channel()  # subscribed to every rule: no other rule may speak
    if case.rule != RuleKey.NEVER_REPORTED:
        report_from(customer)  # a live server, unless the case says otherwise

    case.enter(customer, report_from)
    run_alerts()
    run_alerts()  # the condition holds: nothing more

    assert len(robots.messages) == 1, texts(robots.messages)
    opened = texts(robots.messages)[0]
    assert opened.startswith("**【触发】")
    assert case.says in opened
    subject = "0999001" if case.rule == RuleKey.UNREGISTERED else "0513001 江苏中威科技"
    assert subject in opened
    assert "开始于：" in opened
    assert Alert.objects.filter(rule__key=case.rule, resolved_at__isnull=True).count() == 1

    case.leave(customer, report_from)
    run_alerts()
    run_alerts()

    assert len(robots.messages) == 2, texts(robots.messages)
    resolved = texts(robots.messages)[1]
    assert resolved.startswith("**【恢复】")
    assert subject in resolved
    assert "恢复于：" in resolved
    alert = Alert.objects.get(rule__key=case.rule)
    assert (alert.resolution, alert.resolved_at is not None) == (Resolution.ENDED, True)


def test_the_message_names_the_customer_its_engineer_the_state_since_when_and_links_to_its_page(
    make_customer, report_from, make_channel, robots, run_alerts
):
    customer = make_customer(service_engineer="宋卫南")
    reported_at = timezone.now() - datetime.timedelta(hours=50)
    report_from(customer, at=reported_at)
    make_channel(rules=[RuleKey.SILENT])

    run_alerts()

    (text,) = texts(robots.messages)
    since = timezone.localtime(reported_at + datetime.timedelta(hours=48))
    assert text.splitlines() == [
        "**【触发】服务器失联：0513001 江苏中威科技**",
        "> 客户：0513001 江苏中威科技",
        "> 负责服务人员：宋卫南",
        f"> 告警内容：超过 48 小时无上报，最近一次上报：{timezone.localtime(reported_at):%Y-%m-%d %H:%M}（2 天前）",
        f"> 开始于：{since:%Y-%m-%d %H:%M}（2 小时前）",
        f"[在控制台查看](https://console.example.com/admin/customers/customer/{customer.pk}/change/)",
    ]


def test_the_licence_rules_escalate_one_alert_at_a_time(make_customer, make_channel, robots, run_alerts):
    customer = make_customer(timeout=TODAY() + datetime.timedelta(days=20))
    make_channel()

    run_alerts()
    type(customer).objects.filter(pk=customer.pk).update(timeout=TODAY() + datetime.timedelta(days=5))
    run_alerts()
    type(customer).objects.filter(pk=customer.pk).update(timeout=TODAY() - datetime.timedelta(days=1))
    run_alerts()
    type(customer).objects.filter(pk=customer.pk).update(timeout=TODAY() + datetime.timedelta(days=365))
    run_alerts()

    titles = [text.splitlines()[0] for text in texts(robots.messages)]
    assert titles == [
        "**【触发】许可证 30 天内到期：0513001 江苏中威科技**",
        "**【触发】许可证 7 天内到期：0513001 江苏中威科技**",
        "**【触发】许可证已过期：0513001 江苏中威科技**",
        "**【恢复】许可证已过期：0513001 江苏中威科技**",
    ]
    assert list(Alert.objects.order_by("id").values_list("resolution", flat=True)) == [
        Resolution.SUPERSEDED,
        Resolution.SUPERSEDED,
        Resolution.ENDED,
    ]


def test_thresholds_are_the_operators(make_customer, report_from, make_channel, robots, rule, run_alerts):
    customer = make_customer()
    report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel(rules=[RuleKey.SILENT])
    rule(RuleKey.SILENT, threshold=72)

    run_alerts()
    assert robots.messages == []

    rule(RuleKey.SILENT, threshold=24)
    run_alerts()
    assert "超过 24 小时无上报" in texts(robots.messages)[0]


def test_a_disabled_rule_opens_nothing_and_closes_its_alerts_without_a_message(
    make_customer, report_from, make_channel, robots, rule, run_alerts
):
    report_from(make_customer(), ago=datetime.timedelta(hours=50))
    make_channel(rules=[RuleKey.SILENT])
    run_alerts()

    rule(RuleKey.SILENT, enabled=False)
    run_alerts()

    assert len(robots.messages) == 1
    assert Alert.objects.get().resolution == Resolution.DISABLED


def test_a_removed_customer_s_alerts_close_without_a_message(
    make_customer, report_from, make_channel, robots, run_alerts
):
    from customers.services import customer_remove

    customer = make_customer()
    report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel()
    run_alerts()

    customer_remove(customer=customer)
    run_alerts()

    assert len(robots.messages) == 1
    assert Alert.objects.get().resolution == Resolution.REMOVED
