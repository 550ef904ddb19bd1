"""The customer changelist at a glance: licence and reporting states, their filters and facet counts, the
date-range filters, the charts on the change page, and creating a customer from an unregistered server."""

import datetime
import re
from http import HTTPStatus

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from console.dashboard import Problem, fleet_figures
from console.dashboard import trouble as dashboard_trouble
from customers.models import Customer
from telemetry.models import ServerReport, UnregisteredServer
from telemetry.states import ReportingState, silent_after

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")
UNREGISTERED = reverse("admin:telemetry_unregisteredserver_changelist")
HOUR = datetime.timedelta(hours=1)


def listed(response):
    return sorted(customer.code for customer in response.context["cl"].result_list)


@pytest.fixture
def fleet(report_from, make_customer):
    today = timezone.localdate()
    now = timezone.now()
    customers = {
        "live": make_customer(code="0513001", mac="56:E8:F6:23:EF", timeout=today + datetime.timedelta(days=365)),
        "yesterday": make_customer(code="0513002", timeout=today + datetime.timedelta(days=10)),
        "silent": make_customer(code="0513003", mac="00:11:22:33:44", timeout=today - datetime.timedelta(days=1)),
        "never": make_customer(code="0513004"),
    }
    report_from(customers["live"], at=now - 3 * HOUR, mac="56:E8:F6:23:EF")
    report_from(customers["yesterday"], at=now - 30 * HOUR, timeout=today)  # not the registry's licence expiry
    report_from(customers["silent"], at=now - 5 * 24 * HOUR, mac="00:11:22:33:45")
    return customers


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("reporting=day", ["0513001"]),
        ("reporting=live", ["0513001", "0513002"]),
        ("reporting=silent", ["0513003"]),
        ("reporting=never", ["0513004"]),
        ("mismatch=mac", ["0513003"]),
        ("mismatch=timeout", ["0513002"]),
        ("mismatch=any", ["0513002", "0513003"]),
        ("licence=expired", ["0513003"]),
        ("licence=expiring", ["0513002"]),
        ("licence=ok", ["0513001"]),
        ("licence=unknown", ["0513004"]),
    ],
)
def test_state_filters(admin_client, fleet, query, codes):
    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == codes


def test_the_silent_threshold_moves_the_reporting_states(admin_client, fleet, settings):
    settings.TELEMETRY_SILENT_AFTER_HOURS = 24

    assert listed(admin_client.get(f"{CHANGELIST}?reporting=silent")) == ["0513002", "0513003"]
    assert b"silent (no report for 24 hours)" in admin_client.get(CHANGELIST).content


def test_a_report_on_the_silent_boundary_is_in_exactly_one_state_everywhere(admin_client, make_customer, report_from):
    """At ZWADMIN_SILENT_AFTER_HOURS exactly a report is still live; a second later it is silent. The dashboard,
    the changelist's filters and each customer's row must agree on every side of the boundary."""
    now = timezone.now().replace(microsecond=0)
    boundary = now - silent_after()
    second = datetime.timedelta(seconds=1)
    expected = {"0600001": "live", "0600002": "live", "0600003": "silent", "0600004": "never"}
    for code, at in (("0600001", boundary + second), ("0600002", boundary), ("0600003", boundary - second)):
        report_from(make_customer(code=code), at=at)
    make_customer(code="0600004")

    with time_machine.travel(now, tick=False):
        figures = fleet_figures()
        trouble = {row.code: row.problems for row in dashboard_trouble()}
        by_filter = {state: listed(admin_client.get(CHANGELIST, {"reporting": state})) for state in ReportingState}
        html = admin_client.get(CHANGELIST).content.decode()
        pages = {
            customer.code: admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
            for customer in Customer.objects.filter(code__in=expected)
        }

    assert by_filter == {
        state: sorted(code for code, expected_state in expected.items() if expected_state == state)
        for state in ReportingState
    }
    assert sum(len(codes) for codes in by_filter.values()) == figures.customers == len(expected)
    assert (figures.silent, figures.never_reported) == (len(by_filter["silent"]), len(by_filter["never"]))
    cell = r'<td class="field-reporting[^"]*"[^>]*>\s*<span class="zw-state zw-tone-[a-z]+"[^>]*>([a-z ]+)<'
    rows = {code: re.search(rf"{code}</a>.*?{cell}", html, re.S).group(1) for code in expected}
    assert rows == {code: ReportingState(state).label for code, state in expected.items()}
    # The customer page's status header says the same, and so does the dashboard's 需要处理 table.
    headers = {
        code: next(item.value for item in page.context["status"] if item.key == "reporting")
        for code, page in pages.items()
    }
    assert headers == {code: ReportingState(state).label for code, state in expected.items()}
    assert {code for code, problems in trouble.items() if Problem.SILENT in problems} == {"0600003"}
    assert {code for code, problems in trouble.items() if Problem.NEVER_REPORTED in problems} == {"0600004"}


def test_the_reporting_column_shows_the_state_and_how_long_ago(admin_client, fleet):
    html = admin_client.get(CHANGELIST).content.decode()
    exact = f"{timezone.localtime(fleet['live'].server_status.reported_at):%Y-%m-%d %H:%M}"

    live = re.search(
        r'<span class="zw-state zw-tone-ok" title="([^"]+)">live</span> <span class="zw-quiet" title="[^"]+">([^<]+)<',
        html,
    )
    assert live and live.group(1) == exact
    assert live.group(2) == "3 hours ago"
    assert '<span class="zw-state zw-tone-warning"' in html and ">silent<" in html
    assert '<span class="zw-state zw-tone-neutral">never reported</span>' in html
    assert 'title="MAC differs from the registry">⚠ differs<' in html
    assert 'title="licence expiry differs from the registry">⚠ differs<' in html


def test_relative_times_speak_chinese_in_one_style(admin_client, fleet):
    html = admin_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert ">3 小时前<" in html
    assert ">5 天前<" in html  # the silent one: one unit, the largest, "天" not "日"
    assert "之前" not in html


def test_the_changelist_reads_the_reporting_state_in_the_same_query(report_from, admin_client, make_customer):
    def changelist_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CHANGELIST).status_code == HTTPStatus.OK
        return len(queries)

    admin_client.get(CHANGELIST)
    for number in range(3):
        report_from(make_customer(code=f"07{number:05d}"), at=timezone.now())
    few = changelist_queries()
    for number in range(3, 20):
        report_from(make_customer(code=f"07{number:05d}"), at=timezone.now())

    assert changelist_queries() == few


def test_filters_show_facet_counts_when_asked(admin_client, fleet):
    assert "never reported (1)" not in admin_client.get(CHANGELIST).content.decode()  # a scan each, at 20,000

    html = admin_client.get(CHANGELIST, {"_facets": "True"}).content.decode()

    for choice in ("expired (1)", "expiring within 30 days (1)", "never reported (1)", "MAC (1)"):
        assert choice in html
    assert "reported in the last 24 hours (1)" in html
    assert "silent (no report for 48 hours) (1)" in html


def test_licence_expiry_range(admin_client, fleet):
    today = timezone.localdate()
    response = admin_client.get(
        CHANGELIST,
        {
            "timeout_from": f"{today - datetime.timedelta(days=2):%Y-%m-%d}",
            "timeout_to": f"{today + datetime.timedelta(days=30):%Y-%m-%d}",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == ["0513002", "0513003"]


def test_last_report_range(admin_client, fleet):
    today = timezone.localdate()
    response = admin_client.get(
        CHANGELIST, {"server_status__reported_at_from": f"{today - datetime.timedelta(days=2):%Y-%m-%d}"}
    )
    to_today = admin_client.get(CHANGELIST, {"server_status__reported_at_to": f"{today:%Y-%m-%d}"})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == ["0513001", "0513002"]
    assert listed(to_today) == ["0513001", "0513002", "0513003"]  # the "to" day itself included


def test_the_change_page_charts_the_last_90_days(admin_client, fleet):
    customer = fleet["live"]
    today = timezone.localdate()
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    for days_ago, users in ((1, 170), (1, 178), (2, 160), (89, 120), (90, 999)):
        ServerReport.objects.create(
            customer=customer, count=users, updatetimes=users * 2, reported_at=noon - datetime.timedelta(days=days_ago)
        )

    html = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()

    assert "Users reported by the server (highest of each day)" in html
    assert "Address-book updates reported by the server (highest of each day)" in html
    yesterday = today - datetime.timedelta(days=1)
    assert f"<title>{yesterday:%Y-%m-%d}: 178 users</title>" in html  # the day's highest, not its last
    assert f"<title>{yesterday:%Y-%m-%d}: 356 address-book updates</title>" in html
    assert f"<title>{today - datetime.timedelta(days=89):%Y-%m-%d}: 120 users</title>" in html
    assert ": 999 users" not in html  # 90 days ago is the 91st day
    assert f"{today - datetime.timedelta(days=89):%Y-%m-%d} – {today:%Y-%m-%d}" in html


def test_the_change_page_says_when_there_is_nothing_to_chart(admin_client, fleet):
    html = admin_client.get(reverse("admin:customers_customer_change", args=[fleet["never"].pk])).content.decode()

    assert html.count("No reports in the last 90 days") >= 2  # both charts


def test_the_charts_need_permission_to_view_reports(console_client, make_staff, fleet):
    client = console_client(make_staff("customers.view_customer"))

    html = client.get(reverse("admin:customers_customer_change", args=[fleet["live"].pk])).content.decode()
    assert "Users reported by the server" not in html


# --- Unregistered servers -------------------------------------------------------------------------------


@pytest.fixture
def jinan(db):
    now = timezone.now()
    return UnregisteredServer.objects.create(
        code="0531888",
        name="济南泉城热力",
        mac="B4:2E:99:5A:1C:07",
        ip="10.0.8.15",
        count=64,
        first_seen_at=now - 10 * HOUR,
        last_seen_at=now,
        reports=3,
    )


def test_create_customer_action_opens_the_add_form_prefilled(admin_client, jinan):
    response = admin_client.post(UNREGISTERED, {"action": "create_customer", "_selected_action": [jinan.pk]})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(ADD + "?")
    form = admin_client.get(response["Location"]).context["adminform"].form
    assert form["code"].value() == "0531888"
    assert form["name"].value() == "济南泉城热力"
    assert form["mac"].value() == "B4:2E:99:5A:1C:07"


def test_each_unregistered_row_links_to_the_prefilled_add_form(admin_client, jinan):
    html = admin_client.get(UNREGISTERED).content.decode()

    assert 'href="/admin/customers/customer/add/?code=0531888&amp;name=' in html
    assert "create customer" in html


def test_create_customer_takes_exactly_one_server(admin_client, jinan):
    other = UnregisteredServer.objects.create(
        code="0531889", first_seen_at=jinan.first_seen_at, last_seen_at=jinan.last_seen_at
    )

    response = admin_client.post(
        UNREGISTERED, {"action": "create_customer", "_selected_action": [jinan.pk, other.pk]}, follow=True
    )

    assert response.redirect_chain[-1][0].startswith(UNREGISTERED)
    assert "Select exactly one unregistered server." in response.content.decode()


def test_create_customer_needs_the_add_customer_permission(console_client, make_staff, jinan):
    client = console_client(make_staff("telemetry.view_unregisteredserver", "customers.view_customer"))

    html = client.get(UNREGISTERED).content.decode()
    assert 'value="create_customer"' not in html
    assert "create customer" not in html
    response = client.post(UNREGISTERED, {"action": "create_customer", "_selected_action": [jinan.pk]})
    assert not response.get("Location", "").startswith(ADD)


def test_once_created_the_server_is_no_longer_unregistered(admin_client, jinan, make_customer):
    make_customer(code="0531888", name="济南泉城热力")

    assert listed_codes(admin_client.get(UNREGISTERED, {"registered": "no"})) == []
    assert listed_codes(admin_client.get(UNREGISTERED, {"registered": "yes"})) == ["0531888"]
    html = admin_client.get(UNREGISTERED).content.decode()
    assert "in the registry" in html


def listed_codes(response):
    return [server.code for server in response.context["cl"].result_list]
