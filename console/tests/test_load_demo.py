"""`manage.py load_demo`: the demo customers and telemetry that make `make run` show a lively console."""

import dataclasses

import pytest
from django.core.management import call_command
from django.db.models import Sum

from console.dashboard import fleet_figures
from customers.models import Customer
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, ServerStatus, UnregisteredServer, UsageDay

pytestmark = pytest.mark.django_db

MODELS = [Customer, ServerReport, ServerStatus, ServerChange, ImUser, ImGroup, UsageDay, UnregisteredServer]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_load_demo_twice_leaves_the_same_counts():
    call_command("load_demo", verbosity=0)
    first = counts()
    call_command("load_demo", verbosity=0)

    assert counts() == first
    assert first["ServerReport"] > 90 * 5  # 90 days of reports from most of the demo customers


def test_load_demo_makes_every_dashboard_figure_non_zero():
    call_command("load_demo", verbosity=0)

    figures = fleet_figures()
    zero = [
        field.name
        for field in dataclasses.fields(figures)
        if isinstance(getattr(figures, field.name), int) and not getattr(figures, field.name)
    ]
    assert zero == []
    assert (figures.silent, figures.never_reported, figures.unregistered_servers) == (2, 1, 1)
    assert figures.mac_mismatch == 1 and figures.licence_expired >= 1 and figures.licence_expiring == 1
    assert all(day.value for day in figures.reports_per_day[:-1])  # today may have only begun
    assert figures.total_messages == ImUser.objects.aggregate(total=Sum("fmsgs"))["total"]  # as ingest keeps it


def test_the_demo_mac_change_is_on_record():
    call_command("load_demo", verbosity=0)

    change = ServerChange.objects.get()
    assert (change.customer.code, change.field, change.old_value) == ("0250017", "mac", change.customer.mac)
    assert change.new_value == change.customer.server_status.mac


def test_demo_users_and_groups_have_chinese_names():
    call_command("load_demo", verbosity=0)

    assert all("\u4e00" <= user.nickname[0] <= "\u9fff" for user in ImUser.objects.all()[:20])
    assert ImGroup.objects.filter(name="技术部").exists() or ImGroup.objects.filter(name="办公室").exists()


def test_load_demo_writes_in_bulk(django_assert_max_num_queries):
    # `make run` loads the demo at every start: its thousands of rows go in bulk, not a query per row (the
    # time itself is the machine's, so it is not asserted here).
    with django_assert_max_num_queries(300):
        call_command("load_demo", verbosity=0)
    assert ServerReport.objects.count() + ImUser.objects.count() > 1000


def test_load_demo_opens_alerts_and_mails_them_through_its_channel(mailoutbox):
    from alerts.models import Alert, Channel, MessageStatus, OutboxMessage

    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)  # again: the same alerts, mailed again

    channel = Channel.objects.get(name="运维邮件组")
    assert (channel.kind, channel.recipient_list) == ("email", ["ops@example.com"])
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 9
    subjects = sorted(mail.subject for mail in mailoutbox[-5:])
    assert subjects == [
        "【触发】上报 MAC 与登记不一致：0250017 南京金陵医院",
        "【触发】上报许可证到期日与登记不一致：0210042 上海浦江物流",
        "【触发】许可证 30 天内到期：0571005 杭州西湖电子",
        "【触发】许可证已过期：0210042 上海浦江物流",
        "【触发】许可证已过期：0513001 江苏中威科技",
    ]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
