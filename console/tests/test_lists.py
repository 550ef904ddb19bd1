"""The console's list pages as tables grow (zwadmin/lists.py, docs/performance.md "Console lists"): the same number
of queries whatever the number of rows, a total that says when it is estimated or stopped counting, the rows
and searches users rely on, for a superuser and for the support role."""

import datetime
import itertools
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert, Channel, OutboxMessage, Rule
from console.roles import SUPPORT
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, UnregisteredServer
from zwadmin.lists import LargeTablePaginator

CST = ZoneInfo("Asia/Shanghai")
AT = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=CST)
_serial = itertools.count(1)

# Every list page of the console's big tables, with a filter or a search; {customer} is a customer's id.
PAGES = [
    "admin:customers_customer_changelist",
    "admin:customers_customer_changelist?q=05",
    "admin:telemetry_serverreport_changelist",
    "admin:telemetry_serverreport_changelist?customer__id__exact={customer}",
    "admin:telemetry_serverreport_changelist?q=0513",
    "admin:telemetry_serverreport_changelist?reported_at__year=2024&reported_at__month=5",
    "admin:telemetry_serverchange_changelist",
    "admin:telemetry_serverchange_changelist?field__exact=mac",
    "admin:telemetry_imuser_changelist",
    "admin:telemetry_imuser_changelist?customer__id__exact={customer}",
    "admin:telemetry_imuser_changelist?q=%E5%BC%A0",
    "admin:telemetry_imgroup_changelist",
    "admin:telemetry_imgroup_changelist?q=0513",
    "admin:telemetry_unregisteredserver_changelist",
    "admin:alerts_alert_changelist",
    "admin:alerts_alert_changelist?state=open",
]
SUPERUSER_ONLY = [
    "admin:alerts_outboxmessage_changelist",
    "admin:alerts_channel_changelist",
    "admin:auth_user_changelist",
]


def page_url(page: str, customer) -> str:
    name, _, query = page.partition("?")
    return reverse(name) + ("?" + query.format(customer=customer.pk) if query else "")


def add_rows(customers, per_customer: int) -> None:
    """``per_customer`` rows of every kind for each customer: reports, changes, users, groups, alerts, messages."""
    rule = Rule.objects.order_by("id").first()
    channel, _ = Channel.objects.get_or_create(name="ops", defaults={"kind": "email", "recipients": "a@example.com"})
    for customer in customers:
        for _ in range(per_customer):
            n = next(_serial)
            at = AT - datetime.timedelta(hours=n)
            ServerReport.objects.create(
                customer=customer, name=f"服务器{n}", mac="AA:BB", ip="10.0.0.1", reported_at=at
            )
            ServerChange.objects.create(customer=customer, field="mac", old_value="a", new_value=f"b{n}", changed_at=at)
            ImUser.objects.create(
                customer=customer, uuid=f"u-{n}", nickname=f"张{n}", first_reported_at=at, last_reported_at=at
            )
            ImGroup.objects.create(
                customer=customer, gid=f"g-{n}", name=f"群{n}", first_reported_at=at, last_reported_at=at
            )
            UnregisteredServer.objects.create(code=f"09{n:05d}", name="x", first_seen_at=at, last_seen_at=at)
            alert = Alert.objects.create(
                rule=rule, customer=customer, code=customer.code, since=at, opened_at=at, resolved_at=at
            )
            OutboxMessage.objects.create(channel=channel, alert=alert, kind="opened", title=f"告警 {n}")


@pytest.fixture
def fleet(make_customer):
    return [make_customer(code=f"051300{n}", name=f"客户{n}") for n in range(1, 4)]


@pytest.fixture
def clients(admin_client, console_client, member):
    return {"superuser": admin_client, "support": console_client(member(SUPPORT))}


def query_counts(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)  # the first request of a session: permissions, caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        counts[url] = len(captured.captured_queries)
    return counts


@pytest.mark.parametrize("role", ["superuser", "support"])
def test_every_list_page_makes_as_many_queries_with_more_rows(clients, fleet, role):
    client = clients[role]
    urls = [page_url(page, fleet[0]) for page in PAGES + (SUPERUSER_ONLY if role == "superuser" else [])]
    add_rows(fleet[:1], 1)
    small = query_counts(client, urls)

    add_rows(fleet, 12)  # more rows than a customer tab's page, every customer with some

    assert query_counts(client, urls) == small


def test_the_customer_page_makes_as_many_queries_with_more_rows(admin_client, fleet):
    url = reverse("admin:customers_customer_change", args=[fleet[0].pk])
    add_rows(fleet[:1], 1)
    small = query_counts(admin_client, [url])

    add_rows(fleet, 25)

    assert query_counts(admin_client, [url]) == small


def test_the_user_list_shows_each_customers_users_together_and_an_exact_total(admin_client, fleet):
    add_rows(fleet, 3)

    response = admin_client.get(reverse("admin:telemetry_imuser_changelist"))

    cl = response.context["cl"]
    rows = [(user.customer_id, user.uuid) for user in cl.result_list]
    assert rows == sorted(rows)  # grouped by customer, then by uuid
    assert len(rows) == 9
    assert cl.paginator.count_kind == "exact"  # a small table is counted, on SQLite and PostgreSQL alike
    assert "9 IM users" in response.content.decode()


def test_a_search_by_one_chinese_character_finds_the_users(admin_client, fleet):
    add_rows(fleet[:1], 2)
    ImUser.objects.create(customer=fleet[1], uuid="x-1", nickname="王芳", first_reported_at=AT, last_reported_at=AT)

    response = admin_client.get(reverse("admin:telemetry_imuser_changelist"), {"q": "张"})

    names = [user.nickname for user in response.context["cl"].result_list]
    assert len(names) == 2 and all(name.startswith("张") for name in names)


def test_a_search_by_customer_code_and_name_keeps_every_term(admin_client, fleet):
    add_rows(fleet, 1)
    url = reverse("admin:telemetry_imuser_changelist")

    by_code = admin_client.get(url, {"q": fleet[1].code}).context["cl"].result_list
    both = admin_client.get(url, {"q": f"客户 {fleet[2].code} 张"}).context["cl"].result_list
    none = admin_client.get(url, {"q": f"{fleet[2].code} 王"}).context["cl"].result_list

    assert [user.customer_id for user in by_code] == [fleet[1].pk]
    assert [user.customer_id for user in both] == [fleet[2].pk]
    assert list(none) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_a_large_table_says_about_how_many_rows_and_a_long_search_more_than(admin_client, fleet, monkeypatch):
    add_rows(fleet, 3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE telemetry_serverreport")  # what autovacuum keeps up to date
    monkeypatch.setattr(LargeTablePaginator, "count_limit", 100)  # the bench's 10,000, at a test's size
    monkeypatch.setattr(LargeTablePaginator, "search_count_limit", 4)  # a search stops sooner: its 1,000
    monkeypatch.setattr(LargeTablePaginator, "estimate_above", 4)
    url = reverse("admin:telemetry_serverreport_changelist")

    unfiltered = admin_client.get(url)
    searched = admin_client.get(url, {"q": "0513"})
    few = admin_client.get(url, {"customer__id__exact": fleet[0].pk})

    assert unfiltered.context["cl"].paginator.count_kind == "estimate"
    assert "about 9 server reports" in unfiltered.content.decode()
    assert "more than 4 server reports" in searched.content.decode()
    assert len(searched.context["cl"].result_list) == 9  # the page shows every row it has
    assert few.context["cl"].paginator.count_kind == "exact"
    assert "3 server reports" in few.content.decode()


def test_sqlite_counts_exactly(admin_client, fleet, monkeypatch):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's behaviour")
    add_rows(fleet, 3)
    monkeypatch.setattr(LargeTablePaginator, "count_limit", 4)

    response = admin_client.get(reverse("admin:telemetry_serverreport_changelist"), {"q": "0513"})

    assert response.context["cl"].result_count == 9
    assert "9 server reports" in response.content.decode()


def test_the_date_drill_down_offers_the_days_that_have_rows(admin_client, fleet):
    for day in (3, 7):
        ServerReport.objects.create(customer=fleet[0], reported_at=datetime.datetime(2024, 5, day, 1, 30, tzinfo=CST))
    ServerReport.objects.create(customer=fleet[0], reported_at=datetime.datetime(2023, 12, 31, 23, 0, tzinfo=CST))
    url = reverse("admin:telemetry_serverreport_changelist")

    years = admin_client.get(url).content.decode()
    days = admin_client.get(url, {"reported_at__year": 2024, "reported_at__month": 5}).content.decode()

    assert "reported_at__year=2023" in years and "reported_at__year=2024" in years
    assert "reported_at__day=3" in days and "reported_at__day=7" in days  # China's days, not UTC's
    assert "reported_at__day=2" not in days and "reported_at__day=6" not in days


def test_a_list_builds_its_column_headers_once(admin_client, fleet):
    add_rows(fleet, 2)

    response = admin_client.get(reverse("admin:telemetry_imuser_changelist"))

    assert response.status_code == HTTPStatus.OK
    assert hasattr(response.context["cl"], "_zwadmin_result_headers")  # the theme asked console.theme for them


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
@pytest.mark.django_db
def test_every_column_a_large_list_searches_has_a_trigram_index():
    from django.contrib import admin

    from zwadmin.lists import LargeTableAdminMixin

    bounded = {UnregisteredServer}  # at most ZWADMIN_TELEMETRY_MAX_UNREGISTERED rows: read whole
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%%gin_trgm_ops%%'")
        indexes = cursor.fetchall()
    searched = [
        (model, field)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, LargeTableAdminMixin) and model not in bounded
        for field in model_admin.search_fields
        if not field.startswith("customer__")  # looked up in the registry first (PerCustomerAdmin)
    ]

    missing = [
        f"{model._meta.label}.{field}"
        for model, field in searched
        if not any(table == model._meta.db_table and f"({field})" in definition for table, definition in indexes)
    ]
    assert len(searched) >= 12
    assert missing == []


def test_select_all_names_the_lists_count_as_the_list_says_it(admin_client, fleet, monkeypatch):
    from alerts.admin import AlertAdmin

    add_rows(fleet, 3)  # 9 alerts
    monkeypatch.setattr(AlertAdmin, "list_per_page", 2)
    monkeypatch.setattr(LargeTablePaginator, "count_limit", 4)

    html = admin_client.get(reverse("admin:alerts_alert_changelist")).content.decode()

    # PostgreSQL counts 5 rows and stops ("more than 4"); SQLite counts them all. Never "Select all 5".
    shown = "more than 4 alerts" if connection.vendor == "postgresql" else "9 alerts"
    assert f"Select all: {shown}" in html
    assert f"All selected: {shown}" in html
    assert "Select all 5" not in html


def test_show_all_is_offered_only_on_a_narrowed_list(admin_client, fleet):
    add_rows(fleet, 2)
    url = reverse("admin:telemetry_serverreport_changelist")

    whole = admin_client.get(url, {"o": "-1"}).content.decode()
    searched = admin_client.get(url, {"q": "0513"}).content.decode()
    filtered = admin_client.get(url, {"customer__id__exact": fleet[0].pk}).content.decode()

    assert "Show all" not in whole
    assert "Show all" in searched
    assert "Show all" in filtered


def test_the_channel_list_counts_each_channels_waiting_and_undelivered_messages(admin_client, fleet):
    add_rows(fleet, 1)  # three messages to the channel "ops", waiting
    OutboxMessage.objects.filter(pk=OutboxMessage.objects.order_by("id")[0].pk).update(status="failed")
    Channel.objects.create(name="quiet", kind="email", recipients="b@example.com")

    html = admin_client.get(reverse("admin:alerts_channel_changelist")).content.decode()

    assert "1 message not delivered" in html
    assert "2 waiting" in html
    assert "all delivered" in html  # the channel without messages
