"""What ingestion keeps over time: a server's identity changes and each day's usage totals."""

import datetime
import json

import pytest
from django.utils import timezone

from telemetry.models import ServerChange, UsageDay
from telemetry.services import server_report_commit, user_batch_commit

pytestmark = pytest.mark.django_db


def user(uuid, fmsgs, tmsgs=0, code="0513001"):
    return {
        "code": code,
        "uuid": uuid,
        "nickname": "龚超",
        "onlinetime": 345,
        "andtimes": 45,
        "pctimes": 120,
        "iostimes": 180,
        "fmsgs": fmsgs,
        "tmsgs": tmsgs,
    }


def test_first_report_and_an_unchanged_report_record_no_server_change(make_customer):
    make_customer()

    server_report_commit(code="0513001", name="中威", mac="56:E8:F6:23:EF", ip="192.168.0.7")
    server_report_commit(code="0513001", name="中威", mac="56:E8:F6:23:EF", ip="192.168.0.7")

    assert not ServerChange.objects.exists()


def test_a_new_mac_ip_or_name_is_recorded_with_old_and_new_values(make_customer):
    customer = make_customer()
    server_report_commit(code="0513001", name="中威", mac="56:E8:F6:23:EF", ip="192.168.0.7")

    server_report_commit(
        code="0513001", name="中威通讯", mac="00:1B:21:3A:4F:C2", ip="192.168.0.7", sender_address="203.0.113.9"
    )

    changes = {c.field: (c.old_value, c.new_value) for c in ServerChange.objects.filter(customer=customer)}
    assert changes == {"name": ("中威", "中威通讯"), "mac": ("56:E8:F6:23:EF", "00:1B:21:3A:4F:C2")}
    assert set(ServerChange.objects.values_list("sender_address", flat=True)) == {"203.0.113.9"}


def test_user_batches_keep_one_usage_total_per_customer_and_day(make_customer, api_client):
    jiangsu = make_customer()
    suzhou = make_customer(code="0512003", name="苏州工业园区管委会")

    user_batch_commit(records=[user("u1", 10, 1), user("u2", 5, 2), user("s1", 7, code="0512003")])
    api_client.post("/api/user/commit", {"data": json.dumps([user("u2", 8, 3)])})

    today = timezone.localdate()
    totals = {(d.customer_id, d.day): (d.users, d.fmsgs, d.tmsgs) for d in UsageDay.objects.all()}
    assert totals == {(jiangsu.id, today): (2, 18, 4), (suzhou.id, today): (1, 7, 0)}


def test_usage_of_earlier_days_is_kept(make_customer):
    customer = make_customer()
    yesterday = timezone.now() - datetime.timedelta(days=1)

    user_batch_commit(records=[user("u1", 10)], now=yesterday)
    user_batch_commit(records=[user("u1", 25)])

    assert list(UsageDay.objects.filter(customer=customer).order_by("day").values_list("fmsgs", flat=True)) == [10, 25]
