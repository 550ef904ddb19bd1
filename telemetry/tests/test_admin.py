"""The console's telemetry pages: read-only changelists, and what a customer's change page shows."""

import datetime
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.urls import reverse

from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, ServerStatus, UnregisteredServer, UsageDay

CST = ZoneInfo("Asia/Shanghai")
REPORTED = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=CST)
MODELS = [ServerReport, ImUser, ImGroup, UnregisteredServer, ServerChange]
# The date drill-down where an index of the date serves it; the users' and groups' last report has none.
DATE_HIERARCHY = {
    ServerReport: "reported_at",
    UnregisteredServer: "last_seen_at",
    ServerChange: "changed_at",
}


def url(model, view="changelist", *args) -> str:
    return reverse(f"admin:telemetry_{model._meta.model_name}_{view}", args=args)


# The console is served over HTTPS, terminated by the proxy in front (X-Forwarded-Proto), and these
# tests read our own (English) strings whatever translations exist.


@pytest.fixture
def suzhou(make_customer):
    return make_customer(code="0512002", name="苏州园区")


@pytest.fixture
def telemetry(jiangsu, suzhou):
    """Reports, users and groups of both customers, and one unregistered server."""
    for customer, mac, name in ((jiangsu, "56:E8:F6:23:00", "中威主服务器"), (suzhou, "AA:BB:CC:DD:EE", "园区服务器")):
        ServerReport.objects.create(
            customer=customer, name=name, mac=mac, ip="192.168.0.7", count=178, updatetimes=32, reported_at=REPORTED
        )
    ServerStatus.objects.create(
        customer=jiangsu,
        name="中威主服务器",
        mac="56:E8:F6:23:00",
        ip="192.168.0.7",
        timeout=datetime.date(2017, 1, 1),
        count=178,
        updatetimes=32,
        reported_at=REPORTED,
        sender_address="61.155.85.77",
        first_reported_at=REPORTED - datetime.timedelta(days=30),
        reports=42,
    )
    for customer, uuid, nickname in ((jiangsu, "u-1", "龚超"), (jiangsu, "u-2", "杨燕龙"), (suzhou, "u-9", "宋卫南")):
        ImUser.objects.create(
            customer=customer,
            uuid=uuid,
            nickname=nickname,
            fmsgs=24,
            first_reported_at=REPORTED,
            last_reported_at=REPORTED,
        )
    for customer, gid, name in ((jiangsu, "g-1", "中威官方群"), (suzhou, "g-9", "园区群")):
        ImGroup.objects.create(
            customer=customer,
            gid=gid,
            name=name,
            creatername="施东海",
            first_reported_at=REPORTED,
            last_reported_at=REPORTED,
        )
    ServerChange.objects.create(
        customer=jiangsu, field="mac", old_value="56:E8:F6:23:EF", new_value="56:E8:F6:23:00", changed_at=REPORTED
    )
    UnregisteredServer.objects.create(
        code="0599999",
        name="未登记公司",
        mac="11:22:33:44:55",
        ip="10.0.0.1",
        first_seen_at=REPORTED,
        last_seen_at=REPORTED,
    )


# Changelists


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelist_renders_for_a_superuser(admin_client, telemetry, model):
    response = admin_client.get(url(model))

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count == model.objects.count()


@pytest.mark.parametrize(
    ("model", "term", "found", "not_found"),
    [
        (ServerReport, "0512002", "园区服务器", "中威主服务器"),  # customer code
        (ServerReport, "江苏", "中威主服务器", "园区服务器"),  # customer name
        (ServerReport, "园区服务器", "园区服务器", "中威主服务器"),  # reported name
        (ServerReport, "aa:bb", "园区服务器", "中威主服务器"),  # reported MAC
        (ServerReport, "192.168", "园区服务器", "未登记"),  # reported IP
        (ImUser, "龚超", "龚超", "杨燕龙"),  # nickname
        (ImUser, "u-9", "宋卫南", "龚超"),  # uuid
        (ImUser, "苏州", "宋卫南", "龚超"),  # customer name
        (ImGroup, "g-9", "园区群", "中威官方群"),  # gid
        (ImGroup, "官方", "中威官方群", "园区群"),  # group name
        (ImGroup, "0513001", "中威官方群", "园区群"),  # customer code
        (UnregisteredServer, "0599999", "未登记公司", "no such row"),
        (UnregisteredServer, "11:22", "未登记公司", "no such row"),
    ],
)
def test_changelist_search(admin_client, telemetry, model, term, found, not_found):
    response = admin_client.get(url(model), {"q": term})

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert found in content
    assert not_found not in content


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelist_searches_that_find_nothing_render(admin_client, telemetry, model):
    response = admin_client.get(url(model), {"q": "nothing matches this"})

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_changelist_orders_by_every_column(admin_client, telemetry, model):
    columns = len(admin.site.get_model_admin(model).list_display)
    for column in range(1, columns + 1):
        for order in (str(column), f"-{column}"):
            assert admin_client.get(url(model), {"o": order}).status_code == HTTPStatus.OK, order


@pytest.mark.parametrize("model", list(DATE_HIERARCHY), ids=lambda model: model.__name__)
def test_date_hierarchy_drills_down_to_a_day(admin_client, telemetry, model):
    field = DATE_HIERARCHY[model]
    assert admin.site.get_model_admin(model).date_hierarchy == field

    for drill in ({}, {"year": 2024}, {"year": 2024, "month": 5}, {"year": 2024, "month": 5, "day": 1}):
        response = admin_client.get(url(model), {f"{field}__{part}": value for part, value in drill.items()})
        assert response.status_code == HTTPStatus.OK
        assert response.context["cl"].result_count >= 1

    empty = admin_client.get(url(model), {f"{field}__year": 2020})
    assert empty.context["cl"].result_count == 0


def test_report_list_flags_a_mac_that_differs_from_the_licensed_one(admin_client, telemetry):
    content = admin_client.get(url(ServerReport)).content.decode()

    assert 'title="registry: 56:E8:F6:23:EF">⚠ 56:E8:F6:23:00<' in content  # 江苏's server runs elsewhere
    assert "⚠ AA:BB:CC:DD:EE" not in content  # 苏州 has no licensed MAC to compare with


def test_big_tables_do_not_count_every_row_twice():
    for model in MODELS:
        assert admin.site.get_model_admin(model).show_full_result_count is False


@pytest.mark.parametrize("model", [ServerReport, ImUser, ImGroup], ids=lambda model: model.__name__)
def test_changelists_select_the_customer_with_the_rows(admin_client, telemetry, model, django_assert_max_num_queries):
    admin_client.get(url(model))

    # Session, user, count, rows (with their customer) and the date hierarchy: none per row.
    with django_assert_max_num_queries(8):
        assert admin_client.get(url(model)).status_code == HTTPStatus.OK


# The customer filter (autocomplete)


@pytest.mark.parametrize("model", [ServerReport, ImUser, ImGroup], ids=lambda model: model.__name__)
def test_customer_filter_shows_that_customers_rows_only(admin_client, telemetry, jiangsu, model):
    response = admin_client.get(url(model), {"customer__id__exact": str(jiangsu.pk)})

    assert response.status_code == HTTPStatus.OK
    cl = response.context["cl"]
    assert cl.result_count == model.objects.filter(customer=jiangsu).count()
    assert {row.customer_id for row in cl.result_list} == {jiangsu.pk}


def test_customer_filter_is_an_autocomplete_showing_the_chosen_customer(admin_client, telemetry, suzhou, jiangsu):
    response = admin_client.get(url(ImUser), {"customer__id__exact": str(jiangsu.pk), "q": "龚"})

    content = response.content.decode()
    assert "unfold-filter-autocomplete" in content  # the theme's autocomplete filter over the customer admin
    assert 'data-model-name="imuser"' in content
    assert f'<option value="{jiangsu.pk}" selected>0513001 江苏中威科技</option>' in content
    assert "苏州园区" not in content  # customers are searched as one types, never all listed
    assert "unfold/js/select2.init.js" in content


def test_customer_filter_left_empty_shows_every_customer(admin_client, telemetry):
    response = admin_client.get(url(ImUser), {"customer__id__exact": ""})

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count == 3


def test_autocomplete_finds_customers_by_code_and_name(admin_client, jiangsu, suzhou):
    query = {"app_label": "telemetry", "model_name": "imuser", "field_name": "customer"}

    by_name = admin_client.get(reverse("admin:autocomplete"), {**query, "term": "江苏"}).json()
    by_code = admin_client.get(reverse("admin:autocomplete"), {**query, "term": "0512"}).json()

    assert by_name["results"] == [{"id": str(jiangsu.pk), "text": "0513001 江苏中威科技"}]
    assert by_code["results"] == [{"id": str(suzhou.pk), "text": "0512002 苏州园区"}]


# Read only


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_nobody_adds_changes_or_deletes_telemetry_in_the_console(admin_client, telemetry, model):
    row = model.objects.first()

    assert admin_client.get(url(model, "add")).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.get(url(model, "delete", row.pk)).status_code == HTTPStatus.FORBIDDEN
    assert admin_client.post(url(model, "change", row.pk), {}).status_code == HTTPStatus.FORBIDDEN
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_row_can_be_viewed_but_not_edited(admin_client, telemetry, model):
    row = model.objects.first()

    response = admin_client.get(url(model, "change", row.pk))

    assert response.status_code == HTTPStatus.OK
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in response.content.decode()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_the_changelist_offers_no_delete_action(admin_client, telemetry, model):
    response = admin_client.get(url(model))

    assert "delete_selected" not in response.content.decode()
    assert response.context["has_add_permission"] is False


def test_a_staff_member_needs_the_view_permission(console_client, make_staff, telemetry):
    client = console_client(make_staff("telemetry.view_imuser"))

    assert client.get(url(ImUser)).status_code == HTTPStatus.OK
    assert client.get(url(ImGroup)).status_code == HTTPStatus.FORBIDDEN


# The customer's change page


def customer_page(client, customer):
    response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_customer_page_status_header_shows_licence_reporting_and_key(admin_client, telemetry, jiangsu):
    content = customer_page(admin_client, jiangsu)

    header = content[content.index('class="zw-status"') :]
    assert (
        header.index("zw-status-licence") < header.index("zw-status-reporting") < header.index("zw-status-ingest-key")
    )
    assert "expired on 2016-09-21" in header
    assert "last report 2024-05-01 09:30" in header
    assert "178 users reported" in header
    assert "Reports are accepted without a key." in header
    # The status header comes before the first field of the form.
    assert content.index('class="zw-status"') < content.index('name="code"')


def test_customer_page_flags_each_reported_value_that_differs_from_the_registry(admin_client, telemetry, jiangsu):
    content = customer_page(admin_client, jiangsu)

    assert "zw-status-mismatch-mac zw-tone-danger" in content
    assert "registry: 56:E8:F6:23:EF; reported: 56:E8:F6:23:00" in content
    assert "registry: 2016-09-21; reported: 2017-01-01" in content


def test_customer_page_flags_nothing_when_the_server_matches_the_registry(admin_client, telemetry, jiangsu):
    ServerStatus.objects.filter(customer=jiangsu).update(mac="56:E8:F6:23:EF", timeout=datetime.date(2016, 9, 21))

    content = customer_page(admin_client, jiangsu)

    assert "zw-status-mismatch-" not in content
    assert "the report matches the registry" in content


def test_customer_page_has_a_tab_for_each_kind_of_row(admin_client, telemetry, jiangsu):
    response = admin_client.get(reverse("admin:customers_customer_change", args=[jiangsu.pk]))

    tabs = {str(dataset.title): dataset for dataset in response.context["datasets"]}
    assert list(tabs) == ["Server reports", "Users", "Groups", "Changes", "History"]
    assert tabs["Users"].cl.result_count == 2  # this customer's users only
    assert {user.customer_id for user in tabs["Users"].cl.result_list} == {jiangsu.pk}
    assert tabs["Groups"].cl.result_count == 1
    content = response.content.decode()
    assert "56:E8:F6:23:00" in content  # the server change, in its tab


def test_customer_page_says_when_the_server_never_reported(admin_client, telemetry, suzhou, make_customer):
    quiet = make_customer(code="0510003", name="无锡")

    content = customer_page(admin_client, quiet)

    assert "Its server has not reported yet." in content
    assert "zw-status-reporting zw-tone-neutral" in content


def test_customer_page_shows_telemetry_only_to_who_may_view_it(console_client, make_staff, telemetry, jiangsu):
    client = console_client(make_staff("customers.view_customer", "telemetry.view_imuser"))

    response = client.get(reverse("admin:customers_customer_change", args=[jiangsu.pk]))

    assert [str(dataset.title) for dataset in response.context["datasets"]] == ["Users", "History"]
    assert 'id="customer-users"' not in response.content.decode()  # the charts need the reports


def test_customer_add_page_has_no_telemetry(admin_client):
    response = admin_client.get(reverse("admin:customers_customer_add"))

    assert response.status_code == HTTPStatus.OK
    assert "zw-status" not in response.content.decode()
    assert not response.context.get("datasets")


def test_customer_form_still_saves_with_telemetry_on_the_page(admin_client, telemetry, jiangsu):
    form = {
        "code": "0513001",
        "name": "江苏中威科技有限公司",
        "mac": "56:E8:F6:23:EF",
        "tcphost": "61.155.85.77",
        "tcpport": "10003",
        "webhost": "61.155.85.77",
        "webport": "10001",
        "filehost": "61.155.85.77",
        "fileport": "10004",
        "timeout": "2016-09-21",
        "contact": "",
        "ctel": "",
        "service_engineer": "",
    }

    response = admin_client.post(reverse("admin:customers_customer_change", args=[jiangsu.pk]), form)

    assert response.status_code == HTTPStatus.FOUND
    jiangsu.refresh_from_db()
    assert jiangsu.name == "江苏中威科技有限公司"


def test_customer_page_charts_messages_sent_per_day(admin_client, telemetry, jiangsu):
    today = datetime.datetime.now(CST).date()
    for days_ago, fmsgs in ((2, 1200), (1, 1350)):
        UsageDay.objects.create(
            customer=jiangsu,
            day=today - datetime.timedelta(days=days_ago),
            users=2,
            fmsgs=fmsgs,
            tmsgs=0,
            updated_at=REPORTED,
        )

    content = customer_page(admin_client, jiangsu)

    assert 'id="customer-messages-title"' in content
    assert f"{today - datetime.timedelta(days=1):%Y-%m-%d}: 1,350 messages sent" in content
