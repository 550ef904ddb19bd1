"""The fleet dashboard on the admin index (console/dashboard.py, {% fleet_dashboard %}).

Figures are checked on a crafted fleet, and each figure's link is followed: the changelist it opens
must list exactly as many rows as the figure says.
"""

import datetime
import re
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from console.dashboard import fleet_figures, reports_per_day
from customers.models import Customer
from customers.services import customer_remove
from telemetry.models import ImUser, ServerReport, UnregisteredServer, UsageDay
from telemetry.services import user_batch_commit

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
INDEX = reverse("admin:index")


def usage(customer, fmsgs, *, days_ago=0):
    """The customer's usage totals of a day, as ingest keeps them after each user batch."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    UsageDay.objects.create(customer=customer, day=day, users=1, fmsgs=fmsgs, updated_at=timezone.now())


def unregistered(code):
    now = timezone.now()
    UnregisteredServer.objects.create(code=code, name="未登记", first_seen_at=now, last_seen_at=now, reports=1)


@pytest.fixture
def fleet(report_from, make_customer):
    """Four active customers and a removed one, each in a different state."""
    today = timezone.localdate()
    hours = datetime.timedelta(hours=1)
    live = make_customer(code="0513001", mac="56:E8:F6:23:EF", timeout=today + datetime.timedelta(days=365))
    report_from(live, ago=hours, mac="56:E8:F6:23:EF", count=100)
    # Reported 30 hours ago: live (within 48 hours) but not "in the last 24 hours"; a MAC the registry does not know.
    expiring = make_customer(code="0513002", mac="00:11:22:33:44", timeout=today + datetime.timedelta(days=10))
    report_from(expiring, ago=30 * hours, mac="00:11:22:33:45", count=50)
    # Silent for three days, licence expired in the registry but renewed on the server.
    silent = make_customer(code="0513003", timeout=today - datetime.timedelta(days=1))
    report_from(silent, ago=72 * hours, timeout=today + datetime.timedelta(days=100), count=7)
    make_customer(code="0513004")  # never reported, no licence date
    removed = make_customer(code="0513005", timeout=today - datetime.timedelta(days=1), mac="00:11:22:33:44")
    report_from(removed, ago=hours, mac="AA:BB:CC:DD:EE", count=1000)
    customer_remove(customer=removed)

    usage(live, 500, days_ago=40)
    usage(live, 30, days_ago=1)  # the latest day counts, not the sum of days
    usage(expiring, 5)
    usage(removed, 1000)
    unregistered("0999001")
    unregistered("0513002")  # registered since
    unregistered("0513005")  # the code of a removed customer: in the registry, restorable


EXPECTED = {
    "customers": 4,
    "reported_last_day": 1,
    "silent": 1,
    "never_reported": 1,
    "licence_expired": 1,
    "licence_expiring": 1,
    "mismatch": 2,
    "mac_mismatch": 1,
    "timeout_mismatch": 1,
    "unregistered_servers": 1,
    "total_users": 157,
    "total_messages": 35,
}


def test_figures_count_the_active_customers_in_each_state(fleet):
    figures = fleet_figures()

    assert {name: getattr(figures, name) for name in EXPECTED} == EXPECTED
    assert figures.silent_after_hours == 48


def test_the_silent_threshold_is_a_setting(fleet, settings):
    settings.TELEMETRY_SILENT_AFTER_HOURS = 24

    assert fleet_figures().silent == 2  # the one reported 30 hours ago too


def test_an_empty_registry_has_zero_figures(db):
    figures = fleet_figures()

    assert figures.customers == figures.total_users == figures.total_messages == figures.unregistered_servers == 0
    assert len(figures.reports_per_day) == 30 and not any(day.value for day in figures.reports_per_day)


def dashboard_figures(response):
    """(label, value, url) of every figure and part the dashboard shows."""
    shown = []
    for _, figures in response.context["groups"]:
        for figure in figures:
            shown.append((str(figure.label), figure.value, figure.url))
            shown.extend((f"{figure.label}: {part.label}", part.value, part.url) for part in figure.parts)
    return shown


def test_the_admin_index_shows_the_dashboard(admin_client, fleet):
    response = admin_client.get(INDEX)

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'class="zw-fleet"' in html
    assert 'class="app-customers module' not in html  # the sidebar groups the pages; no app list here
    shown = {label: value for label, value, _ in dashboard_figures(response)}
    assert shown["customers in the registry"] == 4
    assert shown["unregistered servers reporting"] == 1
    assert shown["users, as last reported"] == 157
    assert shown["messages sent"] == 35
    assert "Reports per day across the fleet" in html
    assert "no report for more than 48 hours" in html


def trouble_rows(response):
    """(code, [problem labels]) of each row of the 需要处理 table, in order."""
    return [
        (re.search(r'zw-code">(\d+)<', row[1]).group(1), re.findall(r"zw-badge[^>]*>([^<]+)<", row[0]))
        for row in response.context["trouble"]["rows"]
    ]


def test_the_dashboard_names_every_customer_in_trouble_most_urgent_first(admin_client, fleet):
    response = admin_client.get(INDEX)

    assert trouble_rows(response) == [
        ("0513003", ["licence expired", "differs from the registry", "silent"]),
        ("0513002", ["differs from the registry", "licence expiring within 30 days"]),
        ("0999001", ["unregistered server"]),
        ("0513004", ["never reported"]),
    ]
    assert response.context["trouble_count"] == 4
    html = response.content.decode()
    assert "Needs attention: 4" in html
    for code in ("0513002", "0513003", "0513004"):
        assert reverse("admin:customers_customer_change", args=[Customer.objects.get(code=code).pk]) in html
    assert "0513001" not in "".join(row[1] for row in response.context["trouble"]["rows"])  # live and valid


def test_the_trouble_table_says_what_it_leaves_out(admin_client, fleet, monkeypatch):
    monkeypatch.setattr("console.dashboard.TROUBLE_ROWS", 2)

    response = admin_client.get(INDEX)

    assert len(response.context["trouble"]["rows"]) == 2
    html = response.content.decode()
    assert "1 more customer in trouble is not listed here." in html
    every = admin_client.get(response.context["trouble_url"])
    assert sorted(c.code for c in every.context["cl"].result_list) == ["0513002", "0513003", "0513004"]


def test_the_dashboard_search_finds_customers_by_code_name_mac_host_or_contact(admin_client, fleet):
    html = admin_client.get(INDEX).content.decode()

    form = re.search(r'<form class="zw-search" method="get" action="([^"]+)"', html)
    assert form and form.group(1) == reverse("admin:customers_customer_changelist")
    assert 'name="q"' in html
    found = admin_client.get(form.group(1), {"q": "00:11:22:33:44"})
    assert sorted(customer.code for customer in found.context["cl"].result_list) == ["0513002"]


def test_an_app_index_page_lists_its_models_without_the_dashboard(admin_client, fleet):
    response = admin_client.get("/admin/customers/")

    assert response.status_code == HTTPStatus.OK
    assert 'class="zw-fleet"' not in response.content.decode()


def test_each_figure_links_to_a_list_of_exactly_that_many(admin_client, fleet):
    linked = [(label, value, url) for label, value, url in dashboard_figures(admin_client.get(INDEX)) if url]

    assert len(linked) == 10  # every figure but the two usage totals
    for label, value, url in linked:
        response = admin_client.get(url)
        assert response.status_code == HTTPStatus.OK, label
        assert response.context["cl"].result_count == value, (label, url)


def test_the_unregistered_link_stops_counting_a_code_once_it_is_registered(admin_client, fleet, make_customer):
    make_customer(code="0999001", name="新客户")

    assert fleet_figures().unregistered_servers == 0
    response = admin_client.get(reverse("admin:telemetry_unregisteredserver_changelist") + "?registered=no")
    assert response.context["cl"].result_count == 0


def test_the_dashboard_is_only_for_staff_who_may_view_customers(console_client, make_staff, fleet):
    response = console_client(make_staff("telemetry.view_serverreport")).get(INDEX)

    assert response.status_code == HTTPStatus.OK
    assert b'class="zw-fleet"' not in response.content


def test_the_unregistered_figure_links_only_for_those_who_may_see_the_list(console_client, make_staff, fleet):
    response = console_client(make_staff("customers.view_customer")).get(INDEX)

    shown = {label: (value, url) for label, value, url in dashboard_figures(response)}
    assert shown["unregistered servers reporting"] == (1, "")


def index_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(INDEX).status_code == HTTPStatus.OK
    return len(queries)


def test_the_admin_index_makes_the_same_queries_for_3_or_30_customers(report_from, admin_client, make_customer):
    def add_customers(first, last):
        today = timezone.localdate()
        for number in range(first, last):
            # Every kind of trouble, so that the 需要处理 table has rows of each: expired, expiring, silent, live.
            customer = make_customer(code=f"07{number:05d}", timeout=today + datetime.timedelta(days=number - 10))
            report_from(customer, ago=datetime.timedelta(hours=number * 3), mac="00:11:22:33:44")
            usage(customer, number)
            unregistered(f"09{number:05d}")

    admin_client.get(INDEX)  # warm up: content types, session
    add_customers(0, 3)
    few = index_queries(admin_client)
    add_customers(3, 30)
    many = index_queries(admin_client)

    assert few == many
    assert few <= 10


@pytest.mark.parametrize(
    ("local_time", "day"),
    [
        (datetime.datetime(2026, 11, 27, 23, 30, tzinfo=CST), datetime.date(2026, 11, 27)),  # 15:30 UTC, the 27th
        (datetime.datetime(2026, 11, 28, 0, 30, tzinfo=CST), datetime.date(2026, 11, 28)),  # 16:30 UTC, the 27th
    ],
)
def test_reports_per_day_buckets_by_local_day(make_customer, local_time, day):
    customer = make_customer()
    ServerReport.objects.create(customer=customer, reported_at=local_time)

    days = reports_per_day(now=datetime.datetime(2026, 11, 28, 12, 0, tzinfo=CST))

    assert {point.day: point.value for point in days if point.value} == {day: 1}


def test_reports_per_day_covers_the_last_30_days_with_zeros(make_customer):
    customer = make_customer()
    now = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=CST)
    for days_ago in (0, 0, 2, 29, 30):
        ServerReport.objects.create(customer=customer, reported_at=now - datetime.timedelta(days=days_ago))

    days = reports_per_day(now=now)

    assert [point.day for point in (days[0], days[-1])] == [datetime.date(2026, 10, 30), datetime.date(2026, 11, 28)]
    assert len(days) == 30
    assert {point.day.day: point.value for point in days if point.value} == {28: 2, 26: 1, 30: 1}


def test_the_messages_total_is_what_the_servers_reported_for_their_users(make_customer):
    """Through ingest, which keeps the daily usage totals the dashboard reads: the sum over every IM user."""
    first, second = make_customer(code="0513001"), make_customer(code="0513002")
    batch = [
        {"code": customer.code, "uuid": f"u-{i}", "nickname": "龚超", "fmsgs": fmsgs, "tmsgs": 1}
        for i, (customer, fmsgs) in enumerate([(first, 10), (first, 20), (second, 7)])
    ]
    for record in batch:
        record.update(onlinetime=1, andtimes=0, pctimes=1, iostimes=0)
    user_batch_commit(records=batch, sender_address="61.155.85.77")
    user_batch_commit(records=[{**batch[0], "fmsgs": 15}], sender_address="61.155.85.77")  # the latest figure wins

    assert fleet_figures().total_messages == ImUser.objects.aggregate(total=Sum("fmsgs"))["total"] == 42
