"""Smoke tests of the operators' console for the customer registry (customers/admin.py)."""

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from console.roles import SUPPORT
from customers.models import Customer
from customers.services import customer_remove
from telemetry.models import ServerStatus

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:customers_customer_changelist")
ADD = reverse("admin:customers_customer_add")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def delete_url(customer):
    return reverse("admin:customers_customer_delete", args=[customer.pk])


def listed(response):
    """The customers on a changelist page."""
    return sorted(customer.code for customer in response.context["cl"].result_list)


def form_data(response, **changes):
    """The body the add or change page in ``response`` would post, with ``changes`` typed in.

    Inline formsets (if the page has any) are sent unchanged, so these tests keep working when
    the console shows related records under the customer.
    """
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
        data[management.add_prefix("TOTAL_FORMS")] = len(formset.initial_forms)
        for sub_form in formset.initial_forms:
            data.update({sub_form.add_prefix(name): sub_form[name].value() for name in sub_form.fields})
    data.update(changes)
    return {name: "" if value is None else value for name, value in data.items()}


def lookup(code):
    return APIClient().get("/api/customer/info", {"code": code})


@pytest.fixture
def registry(make_customer):
    today = timezone.localdate()
    removed = make_customer(code="0513009", name="已删除客户", service_engineer="宋卫南")
    customer_remove(customer=removed)
    return {
        "ok": make_customer(
            code="0513001",
            name="江苏中威科技",
            service_engineer="宋卫南",
            contact="杨燕龙",
            ctel="15151390310",
            mac="56:E8:F6:23:EF",
            timeout=today + datetime.timedelta(days=365),
        ),
        "expiring": make_customer(code="0513002", name="苏州中威", service_engineer="宋卫南", timeout=today),
        "expired": make_customer(
            code="0571001",
            name="杭州客户",
            service_engineer="王工",
            timeout=today - datetime.timedelta(days=1),
            webhost="im.example.cn",
        ),
        "unknown": make_customer(code="0571002", name="宁波客户"),
        "removed": removed,
    }


def test_the_changelist_lists_the_registry(admin_client, registry):
    response = admin_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == ["0513001", "0513002", "0571001", "0571002"]
    assert "江苏中威科技" in response.content.decode()


def test_the_changelist_hides_removed_customers_unless_asked(admin_client, registry):
    removed = admin_client.get(CHANGELIST, {"registry": "removed"})
    everything = admin_client.get(CHANGELIST, {"registry": "all"})

    assert removed.status_code == everything.status_code == HTTPStatus.OK
    assert listed(removed) == ["0513009"]
    assert listed(everything) == ["0513001", "0513002", "0513009", "0571001", "0571002"]


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("0571", ["0571001", "0571002"]),
        ("中威", ["0513001", "0513002"]),
        ("杨燕龙", ["0513001"]),
        ("1515139", ["0513001"]),
        ("56:e8:f6", ["0513001"]),
        ("61.155.85", ["0513001", "0513002", "0571001", "0571002"]),
        ("im.example", ["0571001"]),
    ],
)
def test_the_changelist_searches_code_name_contact_phone_mac_and_hosts(admin_client, registry, query, codes):
    response = admin_client.get(CHANGELIST, {"q": query})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == codes


@pytest.mark.parametrize("state", ["ok", "expiring", "expired", "unknown"])
def test_the_changelist_filters_by_licence_state(admin_client, registry, state):
    response = admin_client.get(CHANGELIST, {"licence": state})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [registry[state].code]


def test_the_changelist_filters_by_engineer(admin_client, registry):
    response = admin_client.get(CHANGELIST, {"service_engineer": "宋卫南"})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == ["0513001", "0513002"]


def test_the_filters_combine_with_the_removed_view(admin_client, registry):
    response = admin_client.get(CHANGELIST, {"registry": "all", "service_engineer": "宋卫南"})

    assert listed(response) == ["0513001", "0513002", "0513009"]


def test_the_changelist_shows_a_customer_without_endpoints_or_expiry(admin_client, make_customer):
    from customers.services import customer_create

    customer_create(code="0513001", name="江苏中威科技")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == ["0513001"]


def test_the_add_page_opens(admin_client):
    assert admin_client.get(ADD).status_code == HTTPStatus.OK


def test_adding_in_the_console_goes_through_the_service(admin_client, django_capture_on_commit_callbacks):
    page = admin_client.get(ADD)
    data = form_data(
        page,
        code="0513001",
        name="江苏中威科技",
        mac="56-e8-f6-23-ef",
        tcphost="61.155.85.77",
        tcpport="10003",
        timeout="2030-01-01",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ADD, data)

    assert response.status_code == HTTPStatus.FOUND, response.context and response.context["adminform"].form.errors
    customer = Customer.objects.get()
    assert customer.mac == "56:E8:F6:23:EF"
    assert customer.timeout == datetime.date(2030, 1, 1)
    answer = lookup("0513001")
    assert answer.status_code == HTTPStatus.OK
    assert answer.json()["tcpport"] == 10003


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "051"}, "code"),
        ({"name": ""}, "name"),
        ({"tcpport": "70000"}, "tcpport"),
        ({"tcphost": "61.155.85"}, "tcphost"),
        ({"mac": "56:E8:F6:23"}, "mac"),
        ({"timeout": "2016-13-01"}, "timeout"),
    ],
)
def test_adding_a_bad_customer_shows_the_error_and_stores_nothing(admin_client, changes, field):
    data = form_data(admin_client.get(ADD), **{"code": "0513001", "name": "江苏中威科技", **changes})

    response = admin_client.post(ADD, data)

    assert response.status_code == HTTPStatus.OK
    assert set(response.context["adminform"].form.errors) == {field}
    assert not Customer.objects.exists()


def test_adding_a_code_already_in_the_registry_shows_the_error(admin_client, make_customer):
    make_customer(code="0513001")
    data = form_data(admin_client.get(ADD), code="0513001", name="另一家公司")

    response = admin_client.post(ADD, data)

    assert response.status_code == HTTPStatus.OK
    assert set(response.context["adminform"].form.errors) == {"code"}
    assert Customer.objects.count() == 1


def test_the_change_page_opens(admin_client, make_customer):
    customer = make_customer(timeout=datetime.date(2030, 1, 1))

    response = admin_client.get(change_url(customer))

    assert response.status_code == HTTPStatus.OK
    assert "0513001" in response.content.decode()


def test_the_change_page_of_a_customer_that_reported_opens(admin_client, make_customer):
    customer = make_customer()
    now = timezone.now()
    ServerStatus.objects.create(customer=customer, reported_at=now, first_reported_at=now, reports=1)

    assert admin_client.get(change_url(customer)).status_code == HTTPStatus.OK


def test_changing_in_the_console_goes_through_the_service(
    admin_client, make_customer, django_capture_on_commit_callbacks
):
    customer = make_customer(contact="杨燕龙")
    assert lookup("0513001").json()["tcpport"] == 10003  # now cached
    data = form_data(admin_client.get(change_url(customer)), tcpport="20003", mac="56e8f623ef")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(customer), data)

    assert response.status_code == HTTPStatus.FOUND, response.context and response.context["adminform"].form.errors
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.tcpport, stored.mac, stored.contact) == (20003, "56:E8:F6:23:EF", "杨燕龙")
    assert lookup("0513001").json()["tcpport"] == 20003


def test_changing_the_code_moves_the_lookup(admin_client, make_customer, django_capture_on_commit_callbacks):
    customer = make_customer(code="0513001")
    assert lookup("0513001").status_code == HTTPStatus.OK
    data = form_data(admin_client.get(change_url(customer)), code="0513100")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(customer), data)

    assert response.status_code == HTTPStatus.FOUND
    assert lookup("0513001").status_code == HTTPStatus.NOT_FOUND
    assert lookup("0513100").status_code == HTTPStatus.OK


def test_changing_to_a_bad_value_shows_the_error_and_keeps_the_row(admin_client, make_customer):
    customer = make_customer()
    data = form_data(admin_client.get(change_url(customer)), fileport="0")

    response = admin_client.post(change_url(customer), data)

    assert response.status_code == HTTPStatus.OK
    assert set(response.context["adminform"].form.errors) == {"fileport"}
    assert Customer.objects.get(pk=customer.pk).fileport == 10004


def test_the_delete_page_asks_first_naming_the_customer_and_what_removal_does(admin_client, make_customer):
    customer = make_customer()
    now = timezone.now()
    ServerStatus.objects.create(customer=customer, reported_at=now, first_reported_at=now, reports=1)

    response = admin_client.get(delete_url(customer))

    assert response.status_code == HTTPStatus.OK
    assert response.context["customers"] == [customer]
    html = response.content.decode()
    assert "0513001 江苏中威科技" in html
    assert "get 404 when they look up" in html
    assert "1 of them had its server report in the last 24 hours" in html
    assert "undoes the removal" in html
    assert "related items will be deleted" not in html
    assert 'name="typed_count"' not in html  # one customer: no number to type
    assert Customer.objects.get(pk=customer.pk).removed_at is None


def test_deleting_in_the_console_removes_softly(admin_client, make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    now = timezone.now()
    ServerStatus.objects.create(customer=customer, reported_at=now, first_reported_at=now, reports=1)
    assert lookup(customer.code).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(delete_url(customer), {"confirm": "yes", "reason": "合同终止"})

    assert response.status_code == HTTPStatus.FOUND
    stored = Customer.objects.get(pk=customer.pk)  # the row stays
    assert stored.removed_at is not None
    assert stored.history.first().history_change_reason == "合同终止"
    assert ServerStatus.objects.filter(customer=customer).exists()  # and so does its history
    assert lookup(customer.code).status_code == HTTPStatus.NOT_FOUND
    assert listed(admin_client.get(CHANGELIST)) == []
    assert listed(admin_client.get(CHANGELIST, {"registry": "removed"})) == ["0513001"]


def action_names(response):
    return {name for name, _ in response.context["action_form"].fields["action"].choices if name}


# Tested in telemetry/tests/test_ingest_keys.py.
INGEST_KEY_ACTIONS = {"rotate_ingest_key", "require_ingest_key", "waive_ingest_key"}


def test_the_hard_delete_action_is_not_offered(admin_client, make_customer):
    make_customer()

    response = admin_client.get(CHANGELIST)

    assert action_names(response) == {"remove_selected", "restore_selected", "export_admin_action", *INGEST_KEY_ACTIONS}


def test_the_hard_delete_action_cannot_be_posted_either(admin_client, make_customer):
    customer = make_customer()

    admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"})

    assert Customer.objects.filter(pk=customer.pk, removed_at__isnull=True).exists()


def test_the_remove_action_asks_first_and_removes_nothing_until_confirmed(admin_client, make_customer):
    first, second = make_customer(code="0513001"), make_customer(code="0513002")

    response = admin_client.post(CHANGELIST, {"action": "remove_selected", "_selected_action": [first.pk, second.pk]})

    assert response.status_code == HTTPStatus.OK
    assert response.context["customers"] == [first, second]
    assert Customer.objects.active().count() == 2


def test_the_remove_action_removes_the_selected_customers_once_confirmed(
    admin_client, make_customer, django_capture_on_commit_callbacks
):
    first, second = make_customer(code="0513001"), make_customer(code="0513002")
    kept = make_customer(code="0513003")
    assert lookup("0513001").status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "remove_selected", "_selected_action": [first.pk, second.pk], "confirm": "yes"}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Customer.objects.active()) == [kept]
    assert Customer.objects.count() == 3
    assert lookup("0513001").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(("typed", "removed"), [("", 0), ("5", 0), ("abc", 0), ("6", 6)])
def test_removing_more_than_five_needs_their_number_typed(admin_client, make_customer, typed, removed):
    customers = [make_customer(code=f"05130{number:02d}") for number in range(6)]
    body = {"action": "remove_selected", "_selected_action": [c.pk for c in customers], "confirm": "yes"}

    response = admin_client.post(CHANGELIST, {**body, "typed_count": typed})

    assert Customer.objects.removed().count() == removed
    if not removed:
        assert response.status_code == HTTPStatus.OK
        assert "Type 6, the number of customers you are removing, to confirm." in response.content.decode()


def test_a_removed_customers_page_is_read_only_says_who_removed_it_and_offers_restore(
    admin_client, make_customer, admin_user
):
    customer = make_customer()
    admin_client.post(delete_url(customer), {"confirm": "yes", "reason": "合同终止"})

    response = admin_client.get(change_url(customer))

    html = response.content.decode()
    assert response.context["has_change_permission"] is False
    assert 'name="_save"' not in html and delete_url(customer) not in html
    banner = html[html.index('id="zw-removed-banner"') :]
    assert (
        f"Removed by {admin_user.username} on {timezone.localtime(Customer.objects.get().removed_at):%Y-%m-%d %H:%M}"
        in banner
    )
    assert "Reason: 合同终止" in banner
    restore = reverse("admin:customers_customer_restore", args=[customer.pk])
    assert f'action="{restore}"' in banner

    admin_client.post(restore)

    assert Customer.objects.get(pk=customer.pk).removed_at is None
    assert lookup(customer.code).status_code == HTTPStatus.OK


def test_support_sees_the_banner_but_no_restore_button(console_client, member, make_customer):
    customer = make_customer()
    customer_remove(customer=customer)

    html = console_client(member(SUPPORT)).get(change_url(customer)).content.decode()

    assert 'id="zw-removed-banner"' in html
    assert 'id="zw-restore"' not in html
    assert (
        console_client(member(SUPPORT, "support-2"))
        .post(reverse("admin:customers_customer_restore", args=[customer.pk]))
        .status_code
        == HTTPStatus.FORBIDDEN
    )


def test_a_search_that_finds_only_removed_customers_says_so_and_links_to_them(admin_client, registry):
    response = admin_client.get(CHANGELIST, {"q": "0513009"})

    assert listed(response) == []
    html = response.content.decode()
    assert "No customer in the registry matches, but 1 removed customer does." in html
    assert "?registry=removed&amp;q=0513009" in html
    assert "removed customer does" not in admin_client.get(CHANGELIST, {"q": "9999999"}).content.decode()


def test_an_edit_records_the_reason_given(admin_client, make_customer):
    customer = make_customer()
    data = form_data(admin_client.get(change_url(customer)), tcpport="10013", change_reason="客户换了端口")

    assert admin_client.post(change_url(customer), data).status_code == HTTPStatus.FOUND

    record = Customer.objects.get(pk=customer.pk).history.first()
    assert (record.tcpport, record.history_change_reason) == (10013, "客户换了端口")


def test_the_restore_action_puts_removed_customers_back(
    admin_client, make_customer, django_capture_on_commit_callbacks
):
    customer = make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        customer_remove(customer=customer)
    assert lookup(customer.code).status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{CHANGELIST}?registry=removed", {"action": "restore_selected", "_selected_action": [customer.pk]}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert Customer.objects.get(pk=customer.pk).removed_at is None
    assert lookup(customer.code).status_code == HTTPStatus.OK


def test_staff_without_the_delete_permission_get_no_removal_actions(make_staff, make_customer):
    customer = make_customer()
    client = Client()
    client.force_login(make_staff("customers.view_customer", "customers.change_customer"))

    response = client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert action_names(response) == {"export_admin_action", *INGEST_KEY_ACTIONS}  # keys need only *change*
    assert client.get(delete_url(customer)).status_code == HTTPStatus.FORBIDDEN
    assert Customer.objects.active().exists()
