"""The customers' audit trail (Customer.history): who changed what and when, old → new, from the API and the console."""

import datetime
import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from console.roles import OPERATIONS, SUPPORT
from customers.models import Customer
from customers.services import customer_create, customer_remove, customer_restore, customer_update
from zwadmin.audit import audit_delta

pytestmark = pytest.mark.django_db


def records(customer):
    """The customer's history, oldest first: (type, username or None, {field: (old, new)})."""
    history = list(customer.history.order_by("history_date", "history_id").select_related("history_user"))
    result = []
    for previous, record in zip([None, *history], history, strict=False):
        changes = {}
        if previous is not None:
            changes = {change.field: (change.old, change.new) for change in audit_delta(record, previous).changes}
        user = record.history_user.username if record.history_user else None
        result.append((record.history_type, user, changes))
    return result


@pytest.fixture
def token_client(member):
    """An API client of an operations member, authenticated with a token as staff scripts are."""
    user = member(OPERATIONS, "script-operator")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def console(member):
    """A console (admin) session of an operations member."""
    client = Client()
    client.force_login(member(OPERATIONS, "console-operator"))
    return client


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def history_url(customer):
    return reverse("admin:customers_customer_history", args=[customer.pk])


def form_data(response):
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    return {name: "" if value is None else value for name, value in data.items()}


def test_an_api_add_is_recorded_under_the_token_user(token_client):
    response = token_client.post("/customer/add", {"code": "0513001", "name": "江苏中威科技"})

    assert response.status_code == HTTPStatus.CREATED
    customer = Customer.objects.get(code="0513001")
    assert records(customer) == [("+", "script-operator", {})]
    assert customer.history.get().name == "江苏中威科技"


def test_an_api_removal_is_recorded_with_removed_at_old_and_new(token_client, make_customer):
    customer = make_customer()

    response = token_client.post("/customer/remove", {"id": str(customer.id)})

    assert response.status_code == HTTPStatus.OK
    (_, _, _), (kind, user, changes) = records(customer)
    assert (kind, user, set(changes)) == ("~", "script-operator", {"removed_at"})
    old, new = changes["removed_at"]
    assert old is None
    assert new == Customer.objects.get(pk=customer.pk).removed_at


def test_a_console_edit_is_recorded_with_the_changed_fields_only(console, make_customer):
    customer = make_customer(contact="杨燕龙")
    page = console.get(change_url(customer))

    response = console.post(
        change_url(customer), {**form_data(page), "name": "江苏中威科技有限公司", "tcpport": "10013"}
    )

    assert response.status_code == HTTPStatus.FOUND, response.context and response.context["adminform"].form.errors
    assert records(customer)[-1] == (
        "~",
        "console-operator",
        {"name": ("江苏中威科技", "江苏中威科技有限公司"), "tcpport": (10003, 10013)},
    )


def test_a_console_removal_and_restore_are_recorded(console, make_customer):
    customer = make_customer()

    removed = console.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"confirm": "yes"})
    restored = console.post(
        reverse("admin:customers_customer_changelist") + "?registry=removed",
        {"action": "restore_selected", "_selected_action": [str(customer.pk)]},
    )

    assert removed.status_code == restored.status_code == HTTPStatus.FOUND
    removal, restore = records(customer)[-2:]
    assert removal[:2] == restore[:2] == ("~", "console-operator")
    assert removal[2]["removed_at"][0] is None and removal[2]["removed_at"][1] is not None
    assert restore[2]["removed_at"][1] is None


def test_the_services_record_the_user_they_are_told(make_customer, member):
    operator = member(OPERATIONS)
    customer = customer_create(code="0513001", name="江苏中威科技", by=operator)
    customer_update(customer=customer, data={"service_engineer": "宋卫南"}, by=operator)
    customer_remove(customer=customer, by=operator)
    customer_restore(customer=customer, by=operator)

    assert [(kind, user, set(changes)) for kind, user, changes in records(customer)] == [
        ("+", operator.username, set()),
        ("~", operator.username, {"service_engineer"}),
        ("~", operator.username, {"removed_at"}),
        ("~", operator.username, {"removed_at"}),
    ]


def test_a_write_outside_a_request_is_recorded_without_a_user(make_customer):
    customer = make_customer()

    customer_update(customer=customer, data={"contact": "杨燕龙"})

    assert records(customer)[-1] == ("~", None, {"contact": ("", "杨燕龙")})


def test_a_console_save_with_nothing_changed_records_nothing(console, make_customer):
    customer = make_customer()

    response = console.post(change_url(customer), form_data(console.get(change_url(customer))))

    assert response.status_code == HTTPStatus.FOUND
    assert [kind for kind, _, _ in records(customer)] == ["+"]


def test_removing_or_restoring_twice_records_nothing_more(make_customer):
    customer = make_customer()
    customer_remove(customer=customer)
    customer_remove(customer=customer)
    customer_restore(customer=customer)
    customer_restore(customer=customer)

    assert [kind for kind, _, _ in records(customer)] == ["+", "~", "~"]


def test_the_history_page_shows_who_and_old_to_new(console, make_customer, member):
    customer = make_customer(timeout=datetime.date(2026, 1, 31))
    customer_update(customer=customer, data={"timeout": datetime.date(2027, 1, 31), "ctel": "15151390310"})
    customer_remove(customer=customer, by=member(OPERATIONS, "杨燕龙"))

    # In Chinese, the console's language: its time format shows the minutes (English says "10 p.m.").
    page = console.get(history_url(customer), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "杨燕龙" in html
    assert "15151390310" in html and "2027" in html
    assert "arrow_right_alt" in html  # old → new
    removed_at = timezone.localtime(Customer.objects.get(pk=customer.pk).removed_at)
    assert f"{removed_at:%Y-%m-%d %H:%M}" in html  # console time (Asia/Shanghai), the console's one form
    assert "<span>—</span>" in html.replace("\n", "").replace("  ", "")  # "not removed" is a dash, not None
    for header in ("修改人", "修改原因", "变更内容", "事件"):
        assert header in html


def test_the_history_names_removal_and_restore_and_keeps_the_reason(console, make_customer, member):
    customer = make_customer()
    customer_update(customer=customer, data={"ctel": "15151390310"}, reason="客户来电")
    customer_remove(customer=customer, reason="合同终止")
    customer_restore(customer=customer, reason="续约")

    html = console.get(history_url(customer)).content.decode()
    events = re.findall(r'data-label="Comment">\s*([^<]+?)\s*<', html)

    assert events == ["restored", "removed", "changed", "added"]  # newest first
    for reason in ("客户来电", "合同终止", "续约"):
        assert reason in html
    chinese = console.get(history_url(customer), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert re.findall(r'data-label="事件">\s*([^<]+?)\s*<', chinese) == ["恢复", "删除", "修改", "登记"]


def test_the_change_page_links_to_the_history(console, make_customer):
    customer = make_customer()

    page = console.get(change_url(customer))

    assert history_url(customer) in page.content.decode()


def test_support_sees_the_history_but_cannot_post_a_past_version(make_customer, member):
    customer = make_customer()
    customer_update(customer=customer, data={"name": "苏州中威"})
    client = Client()
    client.force_login(member(SUPPORT))
    version = customer.history.earliest("history_date")
    version_url = reverse("admin:customers_customer_simple_history", args=[customer.pk, version.pk])

    assert client.get(history_url(customer)).status_code == HTTPStatus.OK
    assert client.get(version_url).status_code == HTTPStatus.OK
    assert client.post(version_url, {"name": "江苏中威科技"}).status_code == HTTPStatus.FORBIDDEN
    assert Customer.objects.get(pk=customer.pk).name == "苏州中威"
    assert customer.history.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_records_the_state_of_existing_customers():
    executor = MigrationExecutor(connection)
    executor.migrate([("customers", "0001_initial")])
    try:
        old_apps = executor.loader.project_state([("customers", "0001_initial")]).apps
        old_apps.get_model("customers", "Customer").objects.create(code="0513001", name="江苏中威科技")
        executor = MigrationExecutor(connection)
        executor.migrate([("customers", "0002_customer_history")])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    customer = Customer.objects.get(code="0513001")
    baseline = customer.history.get()
    assert (baseline.history_type, baseline.history_user, baseline.name) == ("~", None, "江苏中威科技")
    assert baseline.history_change_reason == "audit trail started"
    customer_update(customer=customer, data={"name": "江苏中威科技有限公司"})
    assert records(customer)[-1][2] == {"name": ("江苏中威科技", "江苏中威科技有限公司")}
