"""Every console list, walked with parameters nobody's link sets: never a 500, never a filter the page does not offer.

Each registered ModelAdmin's changelist, as a superuser and as 技术支持, gets unknown fields, lookups no filter
offers, NUL (PostgreSQL refuses it in text), out-of-range years and dates, overlong text, ``o=`` and ``p=``
out of range and ``e=``; every parameter its filters offer gets each hostile value. The console's own links
(the dashboard, the sidebar, every list's filters, columns and sorting) keep working. The ingest key's hash is
never filterable nor shown. ``zwadmin.admin_lists`` holds the rules.
"""

import datetime
import re
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from alerts.models import Alert, Channel, ChannelKind, MessageKind, MessageStatus, OutboxMessage
from alerts.services import rules_by_key
from customers.models import Customer
from customers.serializers import CustomerSerializer
from customers.services import customer_ingest_key_rotate
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, UnregisteredServer
from zwadmin.admin_lists import SEARCH_MAX_LENGTH, ConsoleListMixin

from ..roles import SUPPORT

pytestmark = pytest.mark.django_db

NUL = "\x00"
OVERLONG = "0" * 10_000
# What any parameter a filter offers is sent: text the database refuses, dates it cannot hold, nonsense.
HOSTILE_VALUES = [NUL, OVERLONG, "0001-01-01", "9999-12-31", "99999999999", "not a value"]
# Parameters of no page, or out of range, and Django's own with values nobody's link sets.
HOSTILE_PARAMETERS = [
    {"nosuchfield": "1"},
    {"nosuchfield__startswith": "0"},
    {NUL: "1"},
    {"o": "99"},
    {"o": "-99.x.0.1.2.3.4.5.6.7.8.9"},
    {"o": NUL},
    {"p": "99999999999999999999"},
    {"p": "-1"},
    {"p": NUL},
    {"e": "1"},
    {"e": "1", "nosuchfield": "1"},
    {"q": NUL},
    {"q": OVERLONG},
    {"q": "a " * 5_000},
    {"q": "%_\\'\""},
    {"all": ""},
    {"_facets": "1"},
    {"_popup": "1", "_to_field": "nosuchfield"},
    {"_to_field": NUL},
]
HIERARCHY_VALUES = [
    {"year": "9999"},
    {"year": "0"},
    {"year": "-1"},
    {"year": "1"},
    {"year": "99999999999"},
    {"year": "x"},
    {"year": ""},
    {"year": NUL},
    {"year": "9998", "month": "12", "day": "31"},
    {"year": "2024", "month": "13"},
    {"year": "2024", "month": "2", "day": "30"},
    {"year": "2024", "month": "1", "day": "32"},
    {"month": "1"},
]
NOT_A_SERVER_ERROR = {HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST}
HEX = re.compile(r"[0-9a-f]{64}")


def console_admins() -> list[tuple[type[models.Model], admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def answered(client, path: str, params: dict) -> int:
    """The status of ``GET path?params``; a 302 only to the list's own unfiltered page (Django's ``?e=1``)."""
    response = client.get(path, params)
    assert response.status_code in NOT_A_SERVER_ERROR, (path, params, response.status_code)
    if response.status_code == HTTPStatus.FOUND:
        assert response["Location"] == f"{path}?e=1", (path, params, response["Location"])
    return response.status_code


@pytest.fixture
def fleet(jiangsu, report_from, make_customer, admin_user):
    """A row in every console table, the example customer with an ingest key; returns that key's hash."""
    report_from(jiangsu, ago=datetime.timedelta(hours=1), mac="56:E8:F6:23:00")
    now = timezone.now()
    for model, fields in (
        (ImUser, {"uuid": "u-1", "nickname": "龚超"}),
        (ImGroup, {"gid": "g-1", "name": "中威官方群"}),
    ):
        model.objects.create(customer=jiangsu, first_reported_at=now, last_reported_at=now, **fields)
    ServerChange.objects.create(customer=jiangsu, field="mac", old_value="a", new_value="b", changed_at=now)
    UnregisteredServer.objects.create(code="0599999", name="未登记公司", first_seen_at=now, last_seen_at=now)
    rule = next(iter(rules_by_key().values()))
    alert = Alert.objects.create(rule=rule, customer=jiangsu, code=jiangsu.code, name=jiangsu.name, since=now)
    channel = Channel.objects.create(name="值班群", kind=ChannelKind.WECOM, webhook_url="https://example.com/hook")
    channel.rules.set([rule])
    OutboxMessage.objects.create(
        channel=channel, alert=alert, kind=MessageKind.OPENED, title="告警", status=MessageStatus.FAILED
    )
    Token.objects.create(user=admin_user)
    AccessAttempt.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua", failures_since_start=1)
    AccessLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua")
    AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua", locked_out=False)
    make_customer(code="0512002", name="苏州园区", service_engineer="宋卫南")
    customer_ingest_key_rotate(customer=jiangsu)
    return Customer.objects.values_list("ingest_key_hash", flat=True).get(pk=jiangsu.pk)


@pytest.fixture(params=["superuser", "support"])
def staff(request, admin_client, member, console_client):
    return admin_client if request.param == "superuser" else console_client(member(SUPPORT))


def visible_lists(client) -> list[tuple[type[models.Model], admin.ModelAdmin, object]]:
    """Each list the client may open, with its changelist (the filters it offers) as built for a plain visit."""
    lists = []
    for model, model_admin in console_admins():
        response = client.get(changelist_url(model))
        if response.status_code == HTTPStatus.FORBIDDEN:
            continue
        assert response.status_code == HTTPStatus.OK, model
        lists.append((model, model_admin, response.context_data["cl"]))
    assert lists
    return lists


def test_every_console_list_is_hardened():
    for model, model_admin in console_admins():
        assert isinstance(model_admin, ConsoleListMixin), f"{model._meta.label}: {type(model_admin).__name__}"


def test_no_console_list_answers_a_hostile_parameter_with_a_500(fleet, staff):
    for model, model_admin, changelist in visible_lists(staff):
        path = changelist_url(model)
        for params in HOSTILE_PARAMETERS:
            answered(staff, path, params)
        offered = {name for spec in changelist.filter_specs for name in spec.expected_parameters() if name}
        for name in sorted(offered):
            for value in HOSTILE_VALUES:
                answered(staff, path, {name: value})
        if model_admin.date_hierarchy:
            for parts in HIERARCHY_VALUES:
                answered(staff, path, {f"{model_admin.date_hierarchy}__{part}": v for part, v in parts.items()})


def test_date_hierarchy_years_out_of_range_redirect_to_the_unfiltered_list(fleet, admin_client):
    # The IM user list has no date drill-down (no index serves it at fleet scale): the year it was asked
    # with (a 500 once) is a parameter that list does not offer.
    response = admin_client.get(changelist_url(ImUser), {"last_reported_at__year": "9999"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    for model in (ServerReport, UnregisteredServer):
        path = changelist_url(model)
        field = admin.site.get_model_admin(model).date_hierarchy
        assert field
        for year in ("9999", "0", "-1", "99999999999"):
            response = admin_client.get(path, {f"{field}__year": year})
            assert (response.status_code, response["Location"]) == (HTTPStatus.FOUND, f"{path}?e=1")
        # Django's redirect target carrying wrong parameters again: a 400, not its "database error" page.
        assert admin_client.get(path, {f"{field}__year": "9999", "e": "1"}).status_code == HTTPStatus.BAD_REQUEST
        assert admin_client.get(path, {f"{field}__year": "9998"}).status_code == HTTPStatus.OK


def test_a_lookup_no_filter_offers_is_refused_not_applied(fleet, staff):
    """``?<field>__startswith=`` on any field of any list: 400. Applied, the count would answer questions the
    page never offered; ignored, the list would claim a filter it does not apply."""
    for model, _model_admin, changelist in visible_lists(staff):
        path = changelist_url(model)
        offered = {name for spec in changelist.filter_specs for name in spec.expected_parameters() if name}
        for field in model._meta.concrete_fields:
            lookup = f"{field.name}__{field.target_field.name}" if field.is_relation else field.name
            for suffix in ("startswith", "gt", "isnull", "in"):
                if f"{lookup}__{suffix}" in offered:
                    continue
                status = staff.get(path, {f"{lookup}__{suffix}": "0"}).status_code
                assert status == HTTPStatus.BAD_REQUEST, (model, lookup, suffix, status)


@pytest.mark.parametrize("lookup", ["", "__exact", "__startswith", "__istartswith", "__gt", "__regex", "__isnull"])
def test_the_ingest_key_hash_is_never_filterable(fleet, staff, lookup):
    assert staff.get(changelist_url(Customer), {f"ingest_key_hash{lookup}": fleet[:1]}).status_code == 400
    export = reverse("admin:customers_customer_export")
    assert staff.get(export, {f"ingest_key_hash{lookup}": fleet[:1]}).status_code == HTTPStatus.BAD_REQUEST
    for model in (ImUser, ServerReport, Alert):
        status = staff.get(changelist_url(model), {f"customer__ingest_key_hash{lookup}": fleet[:1]}).status_code
        assert status == HTTPStatus.BAD_REQUEST, model


def test_the_ingest_key_hash_is_never_shown(fleet, jiangsu, staff, django_user_model):
    record = jiangsu.history.latest("history_date").history_id
    pages = [
        changelist_url(Customer),
        reverse("admin:customers_customer_change", args=[jiangsu.pk]),
        reverse("admin:customers_customer_history", args=[jiangsu.pk]),
        reverse("admin:customers_customer_simple_history", args=[jiangsu.pk, record]),
    ]
    for path in pages:
        response = staff.get(path)
        assert response.status_code == HTTPStatus.OK, path
        assert fleet not in response.content.decode(), path
    export_path = reverse("admin:customers_customer_export")
    form = staff.get(export_path).context["form"]
    columns = {name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)}
    export = staff.post(export_path, {"format": "0", "resource": "0", **columns})
    assert export.status_code == HTTPStatus.OK and export["Content-Type"].startswith("text/csv")
    assert fleet not in export.content.decode("utf-8-sig")
    assert "ingest_key_hash" not in {field.name for field in Customer.history.model._meta.fields}


def test_no_column_field_search_filter_or_export_names_the_hash(rf, admin_user):
    request = rf.get("/admin/customers/customer/")
    request.user = admin_user
    model_admin = admin.site.get_model_admin(Customer)
    declared = [
        *model_admin.get_list_display(request),
        *model_admin.get_search_fields(request),
        *(item[0] if isinstance(item, tuple) else item for item in model_admin.get_list_filter(request)),
        *model_admin.get_readonly_fields(request),
        *(name for _title, options in model_admin.get_fieldsets(request) for name in flatten(options["fields"])),
        *model_admin.get_form(request).base_fields,
        *(
            field.attribute
            for resource in model_admin.get_export_resource_classes(request)
            for field in resource().get_export_fields()
        ),
        *CustomerSerializer.Meta.fields,
    ]
    assert not [name for name in declared if "ingest_key_hash" in str(name)]


def flatten(fields) -> list[str]:
    return [name for item in fields for name in (item if isinstance(item, tuple | list) else (item,))]


def test_the_management_api_shows_no_hash(fleet, staff_client):
    listed = staff_client("customers.view_customer").get("/customer/list", {"ordering": "ingest_key_hash"})
    assert listed.status_code == HTTPStatus.OK
    assert fleet not in listed.content.decode() and "ingest_key" not in listed.content.decode()


def test_the_console_s_own_links_keep_working(fleet, admin_client):
    """Every link with a query string on the dashboard, the sidebar and each list (its filters, columns,
    sorting, the alerts' links to their messages): none refused, none redirected to ``?e=1``."""
    pages = ["/admin/", *(changelist_url(model) for model, _admin in console_admins())]
    alert = Alert.objects.get()
    pages.append(reverse("admin:alerts_alert_change", args=[alert.pk]))
    links = {}
    for page in pages:
        for href in re.findall(r'href="(/admin/[^"#]*\?[^"#]*)"', admin_client.get(page).content.decode()):
            url = urlsplit(href.replace("&amp;", "&"))
            if not url.path.endswith(("/changelist/", "/")) or "/logout" in url.path:
                continue
            params = parse_qsl(url.query, keep_blank_values=True)
            links.setdefault((url.path, frozenset(name for name, _value in params)), (page, params))
    assert any("alert__id__exact" in names for _path, names in links)  # the alert's messages
    assert any("customer__id__exact" in names for _path, names in links)  # the customer's IM users
    for (path, _names), (page, params) in links.items():
        response = admin_client.get(f"{path}?{urlencode(params)}")
        assert response.status_code == HTTPStatus.OK, (page, path, params, response.status_code)


def test_a_search_the_database_refuses_finds_nothing_in_the_autocomplete(fleet, staff):
    """The admin's autocomplete (the customer filter of the telemetry lists, and every other relation)."""
    asked = 0
    for model, _admin in console_admins():
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model not in admin.site._registry:
                continue
            if not admin.site.get_model_admin(field.related_model).search_fields:
                continue
            for term in (NUL, f"0513{NUL}", OVERLONG, "a " * (SEARCH_MAX_LENGTH // 2 + 1)):
                params = {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field.name,
                    "term": term,
                }
                response = staff.get("/admin/autocomplete/", params)
                assert response.status_code in {HTTPStatus.OK, HTTPStatus.FORBIDDEN}, (model, field, response)
                if response.status_code == HTTPStatus.OK:
                    assert response.json()["results"] == []
                    asked += 1
    assert asked


def test_the_list_search_box_refuses_what_it_cannot_search_and_says_so(fleet, admin_client):
    for term in (NUL, "x" * (SEARCH_MAX_LENGTH + 1)):
        response = admin_client.get(changelist_url(Customer), {"q": term})
        assert response.status_code == HTTPStatus.OK
        assert [str(message) for message in response.context["messages"]]
    found = admin_client.get(changelist_url(Customer), {"q": "x" * SEARCH_MAX_LENGTH})
    assert found.context_data["cl"].result_count == 0 and not list(found.context["messages"])


def test_the_customer_page_and_its_tabs_take_hostile_parameters(fleet, jiangsu, staff):
    path = reverse("admin:customers_customer_change", args=[jiangsu.pk])
    for params in [
        *HOSTILE_PARAMETERS,
        {"serverreport-p": "99999999999"},
        {"imuser-p": "-1"},
        {"imuser-q": NUL},
        {"imgroup-q": OVERLONG},
        {"ingest_key_hash__startswith": fleet[:1]},
    ]:
        assert staff.get(path, params).status_code in NOT_A_SERVER_ERROR, params
    assert staff.get(reverse("admin:customers_customer_change", args=[NUL])).status_code in NOT_A_SERVER_ERROR


def test_a_change_page_with_nul_in_its_id_is_not_found(fleet, admin_client):
    for model, _admin in console_admins():
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[f"1{NUL}"])
        assert admin_client.get(path).status_code in {HTTPStatus.FOUND, HTTPStatus.NOT_FOUND}, model


@pytest.mark.parametrize(
    ("path", "perms", "params"),
    [
        ("/customer/list", ["customers.view_customer"], {}),
        ("/user/list", ["telemetry.view_imuser"], {"code": "0513001"}),
        ("/group/list", ["telemetry.view_imgroup"], {"code": "0513001"}),
    ],
)
def test_the_staff_lists_answer_nul_and_overlong_text_without_a_500(fleet, staff_client, path, perms, params):
    client = staff_client(*perms)
    names = ["search", "ordering", "code", "name", "server", "licence", "timeout_before", "nickname", "uuid", "gid"]
    for name in names:
        for value in (NUL, f"0513{NUL}", OVERLONG):
            response = client.get(path, {**params, name: value})
            assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (name, response.status_code)
