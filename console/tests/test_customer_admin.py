"""Smoke tests of the operators' console for the customer registry (customers/admin.py)."""

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

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
            timeout=today + datetime.timedelta(days=365),
        ),
        "expiring": make_customer(code="0513002", name="苏州中威", service_engineer="宋卫南", timeout=today),
        "expired": make_customer(
            code="0571001", name="杭州客户", service_engineer="王工", timeout=today - datetime.timedelta(days=1)
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
    ],
)
def test_the_changelist_searches_code_name_contact_and_phone(admin_client, registry, query, codes):
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


def test_the_delete_confirmation_lists_only_the_customer(admin_client, make_customer):
    customer = make_customer()
    now = timezone.now()
    ServerStatus.objects.create(customer=customer, reported_at=now, first_reported_at=now, reports=1)

    response = admin_client.get(delete_url(customer))

    assert response.status_code == HTTPStatus.OK
    assert response.context["deleted_objects"] == [str(customer)]
    assert [count for _, count in response.context["model_count"]] == [1]
    assert not response.context["perms_lacking"]
    assert not response.context["protected"]


def test_deleting_in_the_console_removes_softly(admin_client, make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    now = timezone.now()
    ServerStatus.objects.create(customer=customer, reported_at=now, first_reported_at=now, reports=1)
    assert lookup(customer.code).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(delete_url(customer), {"post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    stored = Customer.objects.get(pk=customer.pk)  # the row stays
    assert stored.removed_at is not None
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


def test_the_remove_action_removes_the_selected_customers(
    admin_client, make_customer, django_capture_on_commit_callbacks
):
    first, second = make_customer(code="0513001"), make_customer(code="0513002")
    kept = make_customer(code="0513003")
    assert lookup("0513001").status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST, {"action": "remove_selected", "_selected_action": [first.pk, second.pk]}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Customer.objects.active()) == [kept]
    assert Customer.objects.count() == 3
    assert lookup("0513001").status_code == HTTPStatus.NOT_FOUND


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
