"""The management interface (docs/protocol.md): /customer/list, /customer/add, /customer/remove."""

import datetime
import uuid
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Customer
from customers.services import customer_remove, customer_restore

pytestmark = pytest.mark.django_db

LIST, ADD, REMOVE, LOOKUP = "/customer/list", "/customer/add", "/customer/remove", "/api/customer/info"
VIEW, CREATE, DELETE = "customers.view_customer", "customers.add_customer", "customers.delete_customer"

DENIED = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)


def post(client, path, data, body):
    """POST ``data`` as a JSON, urlencoded form or multipart body."""
    if body == "json":
        return client.post(path, data, format="json")
    if body == "form":
        return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")
    return client.post(path, data, format="multipart")


def assert_field_error(response, *fields):
    """A 400 in the one error shape, naming exactly ``fields``."""
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body["errors"]) == set(fields)
    for field in fields:
        assert body["errors"][field] and all(isinstance(message, str) for message in body["errors"][field])


def lookup(code):
    return APIClient().get(LOOKUP, {"code": code})


# /customer/add


@pytest.mark.parametrize("body", ["json", "form", "multipart"])
@pytest.mark.parametrize("path", [ADD, ADD + "/"])
def test_add_registers_the_document_example_and_answers_201_with_it(document_example, staff_client, path, body):
    response = post(staff_client(CREATE), path, document_example, body)

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "江苏中威科技".encode() in response.content  # Chinese unescaped
    data = response.json()
    customer = Customer.objects.get()
    assert data["id"] == str(customer.id)
    assert {field: data[field] for field in document_example} == document_example
    assert data["status"] is None
    assert data["licence_state"] == "expired"
    assert customer.code == "0513001" and customer.tcpport == 10003 and customer.timeout == datetime.date(2016, 9, 21)


@pytest.mark.parametrize("body", ["json", "form", "multipart"])
def test_add_needs_only_code_and_name(staff_client, body):
    response = post(staff_client(CREATE), ADD, {"code": "0513001", "name": "江苏中威科技"}, body)

    assert response.status_code == HTTPStatus.CREATED, response.content
    data = response.json()
    assert (data["tcphost"], data["tcpport"], data["timeout"], data["mac"]) == ("", None, None, "")


def test_add_treats_empty_optional_form_fields_as_not_given(document_example, staff_client):
    data = {**document_example, "mac": "", "tcpport": "", "webport": "", "fileport": "", "timeout": "", "ctel": ""}

    response = post(staff_client(CREATE), ADD, data, "form")

    assert response.status_code == HTTPStatus.CREATED, response.content
    customer = Customer.objects.get()
    assert (customer.mac, customer.tcpport, customer.timeout, customer.ctel) == ("", None, None, "")


def test_add_normalises_the_mac(document_example, staff_client):
    response = post(staff_client(CREATE), ADD, {**document_example, "mac": "56-e8-f6-23-ef"}, "json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["mac"] == "56:E8:F6:23:EF"
    assert Customer.objects.get().mac == "56:E8:F6:23:EF"


def test_add_accepts_ports_as_decimal_strings_in_json(document_example, staff_client):
    response = post(staff_client(CREATE), ADD, {**document_example, "tcpport": "10003"}, "json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["tcpport"] == 10003


@pytest.mark.parametrize("timeout", ["2016-09-21", "2016-09-21 00:00:00", "2016-09-21 23:59:59", "2016/09/21"])
@pytest.mark.parametrize("body", ["json", "form"])
def test_add_accepts_the_documented_date_formats(document_example, staff_client, timeout, body):
    response = post(staff_client(CREATE), ADD, {**document_example, "timeout": timeout}, body)

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["timeout"] == "2016-09-21"


def test_add_ignores_fields_outside_the_document(document_example, staff_client):
    chosen_id = uuid.uuid4()
    data = {**document_example, "id": str(chosen_id), "removed_at": "2016-09-21T00:00:00Z", "created_at": "2000-01-01"}

    response = post(staff_client(CREATE), ADD, data, "json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    customer = Customer.objects.get()
    assert customer.id != chosen_id
    assert customer.removed_at is None
    assert customer.created_at.year != 2000


def test_an_added_customer_answers_the_lookup(document_example, staff_client, django_capture_on_commit_callbacks):
    assert lookup("0513001").status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        post(staff_client(CREATE), ADD, document_example, "json")

    response = lookup("0513001")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["tcpport"] == 10003


@pytest.mark.parametrize("body", ["json", "form", "multipart"])
@pytest.mark.parametrize("missing", [("code",), ("name",), ("code", "name")])
def test_add_without_code_or_name_is_a_400_naming_the_field(document_example, staff_client, body, missing):
    data = {key: value for key, value in document_example.items() if key not in missing}

    response = post(staff_client(CREATE), ADD, data, body)

    assert_field_error(response, *missing)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field", ["code", "name"])
def test_add_with_a_blank_code_or_name_is_a_400_naming_the_field(document_example, staff_client, field):
    response = post(staff_client(CREATE), ADD, {**document_example, field: "  "}, "json")

    assert_field_error(response, field)


@pytest.mark.parametrize("body", ["json", "form"])
def test_add_with_a_code_already_in_the_registry_is_a_400_naming_code(
    document_example, staff_client, make_customer, body
):
    make_customer(code="0513001", name="先来的客户")

    response = post(staff_client(CREATE), ADD, document_example, body)

    assert_field_error(response, "code")
    assert Customer.objects.get().name == "先来的客户"


def test_add_with_the_code_of_a_removed_customer_is_a_400_naming_code(document_example, staff_client, make_customer):
    customer_remove(customer=make_customer(code="0513001"))

    response = post(staff_client(CREATE), ADD, document_example, "json")

    assert_field_error(response, "code")


@pytest.mark.parametrize("code", ["051", "0513001000012", "0513-01", "abcdefg", "05130０1"])
def test_add_with_a_code_that_is_not_4_to_12_digits_is_a_400_naming_code(document_example, staff_client, code):
    response = post(staff_client(CREATE), ADD, {**document_example, "code": code}, "json")

    assert_field_error(response, "code")


@pytest.mark.parametrize("value", [0, 70000, "abc", -1, 65536, 1.5, "10003.5", True])
@pytest.mark.parametrize("port", ["tcpport", "webport", "fileport"])
def test_add_with_a_port_outside_1_to_65535_is_a_400_naming_the_port(document_example, staff_client, port, value):
    response = post(staff_client(CREATE), ADD, {**document_example, port: value}, "json")

    assert_field_error(response, port)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("value", ["0", "70000", "abc"])
def test_add_with_a_bad_port_in_a_form_is_a_400_naming_the_port(document_example, staff_client, value):
    response = post(staff_client(CREATE), ADD, {**document_example, "tcpport": value}, "form")

    assert_field_error(response, "tcpport")


@pytest.mark.parametrize("value", [1, 65535])
def test_add_accepts_the_port_limits(document_example, staff_client, value):
    response = post(staff_client(CREATE), ADD, {**document_example, "tcpport": value}, "json")

    assert response.status_code == HTTPStatus.CREATED, response.content


@pytest.mark.parametrize("value", ["2016-13-01", "2016-02-30", "21/09/2016", "2016.09.21", "tomorrow", "20160921x"])
@pytest.mark.parametrize("body", ["json", "form"])
def test_add_with_a_bad_date_is_a_400_naming_timeout(document_example, staff_client, value, body):
    response = post(staff_client(CREATE), ADD, {**document_example, "timeout": value}, body)

    assert_field_error(response, "timeout")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mac", "56:E8:F6:23"),
        ("tcphost", "61.155.85"),
        ("webhost", "bad_host!"),
        ("filehost", "http://61.155.85.77"),
        ("ctel", "call me"),
        ("name", "x" * 101),
    ],
)
def test_add_with_a_bad_field_is_a_400_naming_it(document_example, staff_client, field, value):
    response = post(staff_client(CREATE), ADD, {**document_example, field: value}, "json")

    assert_field_error(response, field)


def test_add_with_a_body_that_is_not_json_is_a_400(staff_client):
    response = staff_client(CREATE).post(ADD, b"{not json", content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"detail", "errors"}


def test_add_with_a_json_array_is_a_400(document_example, staff_client):
    response = staff_client(CREATE).post(ADD, [document_example], format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"detail", "errors"}
    assert not Customer.objects.exists()


@pytest.mark.parametrize("path", [ADD, ADD + "/"])
def test_get_on_add_is_a_405(staff_client, path):
    response = staff_client(VIEW, CREATE).get(path)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert set(response.json()) == {"detail", "errors"}


def test_add_for_a_staff_user_without_the_add_permission_is_a_403(document_example, staff_client):
    response = post(staff_client(VIEW, "customers.change_customer", DELETE), ADD, document_example, "json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert set(response.json()) == {"detail", "errors"}
    assert not Customer.objects.exists()


def test_add_for_an_anonymous_caller_is_refused(document_example, api_client):
    response = post(api_client, ADD, document_example, "json")

    assert response.status_code in DENIED
    assert set(response.json()) == {"detail", "errors"}
    assert not Customer.objects.exists()


# /customer/list


@pytest.mark.parametrize("path", [LIST, LIST + "/"])
def test_list_answers_every_document_field_the_id_and_the_status(document_example, staff_client, jiangsu, path):
    customer = jiangsu

    response = staff_client(VIEW).get(path)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "江苏中威科技".encode() in response.content
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["id"] == str(customer.id)
    assert {field: row[field] for field in document_example} == document_example
    assert row["status"] is None  # the server never reported


def test_list_shows_the_latest_reported_status(staff_client, make_customer, make_status):
    customer = make_customer(mac="56:E8:F6:23:EF", timeout=datetime.date(2030, 1, 1))
    reported_at = timezone.now().replace(microsecond=0)
    make_status(customer, mac="56:E8:F6:23:EF", timeout=datetime.date(2030, 1, 1), reported_at=reported_at)

    (row,) = staff_client(VIEW).get(LIST).json()["results"]

    assert row["status"] == {
        "name": "江苏中威科技",
        "mac": "56:E8:F6:23:EF",
        "ip": "192.168.0.7",
        "timeout": "2030-01-01",
        "count": 178,
        "updatetimes": 32,
        "reported_at": row["status"]["reported_at"],
        "mac_mismatch": False,
        "timeout_mismatch": False,
    }
    assert datetime.datetime.fromisoformat(row["status"]["reported_at"]) == reported_at


def test_list_flags_a_reported_mac_or_expiry_that_differs_from_the_registry(staff_client, make_customer, make_status):
    customer = make_customer(mac="56:E8:F6:23:EF", timeout=datetime.date(2030, 1, 1))
    make_status(customer, mac="00:1A:2B:3C:4D:5E", timeout=datetime.date(2099, 1, 1))

    (row,) = staff_client(VIEW).get(LIST).json()["results"]

    assert row["status"]["mac_mismatch"] is True
    assert row["status"]["timeout_mismatch"] is True


@pytest.mark.parametrize("customers", [3, 30])
def test_list_runs_the_same_number_of_queries_however_many_customers(
    staff_client, make_customer, make_status, django_assert_num_queries, customers
):
    for number in range(customers):
        customer = make_customer(code=f"{513000 + number:07d}", name=f"客户{number}")
        if number % 2:
            make_status(customer)
    client = staff_client(VIEW)

    # Two for the user's permissions, one to count, one for the page with its statuses.
    with django_assert_num_queries(4):
        response = client.get(LIST)

    assert response.json()["count"] == customers


def test_list_omits_removed_customers(staff_client, make_customer):
    kept = make_customer(code="0513001")
    customer_remove(customer=make_customer(code="0513002"))

    body = staff_client(VIEW).get(LIST).json()

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [str(kept.id)]


def test_list_lists_a_restored_customer_again(staff_client, make_customer):
    customer = make_customer()
    customer_remove(customer=customer)
    customer_restore(customer=customer)

    assert staff_client(VIEW).get(LIST).json()["count"] == 1


def test_list_paginates(staff_client, make_customer):
    for number in range(5):
        make_customer(code=f"051300{number}", name=f"客户{number}")
    client = staff_client(VIEW)

    first = client.get(LIST, {"page_size": 2}).json()
    second = client.get(LIST, {"page_size": 2, "page": 2}).json()
    last = client.get(LIST, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [row["code"] for row in first["results"]] == ["0513000", "0513001"]
    assert [row["code"] for row in second["results"]] == ["0513002", "0513003"]
    assert [row["code"] for row in last["results"]] == ["0513004"]
    assert first["previous"] is None and first["next"]
    assert last["next"] is None and last["previous"]


def test_list_beyond_the_last_page_is_a_404(staff_client, make_customer):
    make_customer()

    response = staff_client(VIEW).get(LIST, {"page": 2})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert set(response.json()) == {"detail", "errors"}


@pytest.fixture
def registry(make_customer):
    """Four customers with different names, engineers and licence states."""
    today = timezone.localdate()
    return {
        "ok": make_customer(
            code="0513001", name="江苏中威科技", service_engineer="宋卫南", timeout=today + datetime.timedelta(365)
        ),
        "expiring": make_customer(
            code="0513002", name="苏州中威", service_engineer="宋卫南", timeout=today + datetime.timedelta(7)
        ),
        "expired": make_customer(
            code="0571001", name="杭州客户", service_engineer="王工", timeout=today - datetime.timedelta(1)
        ),
        "unknown": make_customer(code="0571002", name="宁波客户", service_engineer="", contact="杨燕龙"),
    }


def listed_codes(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == HTTPStatus.OK, response.content
    return [row["code"] for row in response.json()["results"]]


def test_list_filters_by_code_prefix(staff_client, registry):
    assert listed_codes(staff_client(VIEW), code="0571") == ["0571001", "0571002"]


def test_list_filters_by_part_of_the_name(staff_client, registry):
    assert listed_codes(staff_client(VIEW), name="中威") == ["0513001", "0513002"]


def test_list_filters_by_engineer(staff_client, registry):
    assert listed_codes(staff_client(VIEW), server="宋卫南") == ["0513001", "0513002"]


@pytest.mark.parametrize("state", ["ok", "expiring", "expired", "unknown"])
def test_list_filters_by_licence_state(staff_client, registry, state):
    assert listed_codes(staff_client(VIEW), licence=state) == [registry[state].code]


def test_list_with_an_unknown_licence_state_is_a_400_naming_licence(staff_client, registry):
    assert_field_error(staff_client(VIEW).get(LIST, {"licence": "forever"}), "licence")


def test_list_searches_code_name_contact_and_engineer(staff_client, registry):
    client = staff_client(VIEW)

    assert listed_codes(client, search="杭州") == ["0571001"]
    assert listed_codes(client, search="杨燕龙") == ["0571002"]
    assert listed_codes(client, search="王工") == ["0571001"]
    assert listed_codes(client, search="05130") == ["0513001", "0513002"]


def test_list_is_ordered_by_code_unless_asked_otherwise(staff_client, registry):
    client = staff_client(VIEW)

    assert listed_codes(client) == ["0513001", "0513002", "0571001", "0571002"]
    assert listed_codes(client, ordering="-code") == ["0571002", "0571001", "0513002", "0513001"]
    by_expiry = listed_codes(client, ordering="timeout")
    by_expiry.remove("0571002")  # no expiry: SQLite sorts NULL first, PostgreSQL last
    assert by_expiry == ["0571001", "0513002", "0513001"]


def test_list_ignores_ordering_by_a_field_not_offered(staff_client, registry):
    assert listed_codes(staff_client(VIEW), ordering="ctel") == ["0513001", "0513002", "0571001", "0571002"]


def test_post_on_list_is_a_405(document_example, staff_client):
    response = staff_client(VIEW, CREATE).post(LIST, document_example, format="json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not Customer.objects.exists()


def test_list_for_a_staff_user_without_the_view_permission_is_a_403(staff_client, make_customer):
    make_customer()

    response = staff_client(CREATE, "customers.change_customer", DELETE).get(LIST)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert set(response.json()) == {"detail", "errors"}


def test_list_for_an_anonymous_caller_is_refused(api_client, make_customer):
    make_customer()

    response = api_client.get(LIST)

    assert response.status_code in DENIED
    assert "0513001" not in response.content.decode()


def test_list_for_a_user_who_is_not_staff_is_a_403(django_user_model, make_customer):
    make_customer()
    user = django_user_model.objects.create_user(username="client-user", password="pw-for-tests-1")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="customers"))
    client = APIClient()
    client.force_authenticate(django_user_model.objects.get(pk=user.pk))

    assert client.get(LIST).status_code == HTTPStatus.FORBIDDEN


# /customer/remove


@pytest.mark.parametrize("body", ["json", "form", "multipart"])
@pytest.mark.parametrize("path", [REMOVE, REMOVE + "/"])
def test_remove_takes_the_customer_out_of_the_registry_and_keeps_its_row(staff_client, make_customer, path, body):
    customer = make_customer()

    response = post(staff_client(DELETE), path, {"id": str(customer.id)}, body)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["status"] == "ok"
    assert response.json()["id"] == str(customer.id)
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.removed_at is not None
    assert not Customer.objects.active().exists()


def test_a_removed_customer_answers_404_on_lookup_and_200_again_once_restored(
    staff_client, make_customer, django_capture_on_commit_callbacks
):
    customer = make_customer()
    assert lookup(customer.code).status_code == HTTPStatus.OK  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        response = post(staff_client(DELETE), REMOVE, {"id": str(customer.id)}, "form")
    assert response.status_code == HTTPStatus.OK

    assert lookup(customer.code).status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        customer_restore(customer=Customer.objects.get(pk=customer.pk))

    response = lookup(customer.code)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["code"] == customer.code


def test_remove_hides_the_customer_from_the_list(staff_client, make_customer):
    customer = make_customer()
    client = staff_client(VIEW, DELETE)

    client.post(REMOVE, {"id": str(customer.id)}, format="json")

    assert client.get(LIST).json()["count"] == 0


@pytest.mark.parametrize("path", [REMOVE, REMOVE + "/"])
def test_get_on_remove_is_a_405_and_removes_nothing(staff_client, make_customer, path):
    customer = make_customer()

    response = staff_client(DELETE).get(path, {"id": str(customer.id)})

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert set(response.json()) == {"detail", "errors"}
    assert Customer.objects.active().exists()


def test_get_on_remove_is_a_405_for_staff_who_may_also_view(staff_client, make_customer):
    customer = make_customer()

    response = staff_client(VIEW, DELETE).get(REMOVE, {"id": str(customer.id)})

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("body", ["json", "form"])
def test_remove_with_an_unknown_id_is_a_404_naming_id(staff_client, make_customer, body):
    make_customer()

    response = post(staff_client(DELETE), REMOVE, {"id": str(uuid.uuid4())}, body)

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert set(body["errors"]) == {"id"}
    assert Customer.objects.active().count() == 1


def test_remove_of_a_removed_customer_is_a_404(staff_client, make_customer):
    customer = make_customer()
    customer_remove(customer=customer)

    response = post(staff_client(DELETE), REMOVE, {"id": str(customer.id)}, "json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert set(response.json()["errors"]) == {"id"}


@pytest.mark.parametrize("value", ["0513001", "not-a-uuid", "616b6865-7503-4d27-92c7", "", 42])
def test_remove_with_a_malformed_id_is_a_400_naming_id(staff_client, make_customer, value):
    make_customer()

    response = post(staff_client(DELETE), REMOVE, {"id": value}, "json")

    assert_field_error(response, "id")
    assert Customer.objects.active().count() == 1


@pytest.mark.parametrize("body", ["json", "form"])
def test_remove_without_an_id_is_a_400_naming_id(staff_client, body):
    assert_field_error(post(staff_client(DELETE), REMOVE, {}, body), "id")


def test_remove_for_a_staff_user_without_the_delete_permission_is_a_403(staff_client, make_customer):
    customer = make_customer()

    response = post(staff_client(VIEW, CREATE, "customers.change_customer"), REMOVE, {"id": str(customer.id)}, "json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert set(response.json()) == {"detail", "errors"}
    assert Customer.objects.active().exists()


def test_remove_for_an_anonymous_caller_is_refused(api_client, make_customer):
    customer = make_customer()

    response = post(api_client, REMOVE, {"id": str(customer.id)}, "json")

    assert response.status_code in DENIED
    assert Customer.objects.active().exists()


# Paths and authentication


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", LIST, None),
        ("get", LIST + "/", None),
        ("post", ADD, "the document's example"),
        ("post", ADD + "/", "the document's example"),
        ("post", REMOVE, {"id": "placeholder"}),
        ("post", REMOVE + "/", {"id": "placeholder"}),
    ],
)
def test_paths_answer_directly_with_or_without_the_trailing_slash(
    admin_client, make_customer, document_example, method, path, data
):
    if data == "the document's example":
        data = document_example
    if data and "id" in data:
        data = {"id": str(make_customer(code="0513009").id)}

    response = getattr(admin_client, method)(path, data)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.CREATED), response.content
    assert not response.has_header("Location")


@pytest.fixture
def token_client(make_staff):
    def make(*perms):
        token = Token.objects.create(user=make_staff(*perms, username="script"))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def test_a_script_with_a_token_can_list_add_and_remove(document_example, token_client, make_customer):
    customer = make_customer(code="0513002")
    client = token_client(VIEW, CREATE, DELETE)

    assert client.get(LIST).status_code == HTTPStatus.OK
    assert client.post(ADD, document_example, format="json").status_code == HTTPStatus.CREATED
    assert client.post(REMOVE, {"id": str(customer.id)}).status_code == HTTPStatus.OK
    assert list(Customer.objects.active().values_list("code", flat=True)) == ["0513001"]


def test_a_token_post_needs_no_csrf_token(document_example, make_staff):
    token = Token.objects.create(user=make_staff(CREATE))
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(ADD, document_example, format="json", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == HTTPStatus.CREATED


def test_an_unknown_token_is_refused(api_client, make_customer):
    make_customer()

    response = api_client.get(LIST, HTTP_AUTHORIZATION="Token " + "0" * 40)

    assert response.status_code in DENIED
    assert set(response.json()) == {"detail", "errors"}


def test_a_token_still_needs_the_model_permission(token_client, make_customer):
    customer = make_customer()
    client = token_client(VIEW)

    assert client.post(REMOVE, {"id": str(customer.id)}).status_code == HTTPStatus.FORBIDDEN
    assert Customer.objects.active().exists()


@pytest.mark.parametrize("client_class", [Client, APIClient])
def test_a_logged_in_browser_session_can_list_add_and_remove(document_example, make_staff, make_customer, client_class):
    customer = make_customer(code="0513002")
    client = client_class()
    client.force_login(make_staff(VIEW, CREATE, DELETE))

    assert client.get(LIST).status_code == HTTPStatus.OK
    assert client.post(ADD, document_example).status_code == HTTPStatus.CREATED
    assert client.post(REMOVE, {"id": str(customer.id)}).status_code == HTTPStatus.OK


def test_a_session_post_without_the_csrf_token_is_refused(document_example, make_staff):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_staff(CREATE))

    response = client.post(ADD, document_example, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Customer.objects.exists()


def test_list_filters_by_expiry_date(staff_client, registry):
    today = timezone.localdate()
    client = staff_client(VIEW)

    assert listed_codes(client, timeout_before=today.isoformat()) == ["0571001"]
    assert listed_codes(client, timeout_after=today.isoformat()) == ["0513001", "0513002"]


@pytest.mark.parametrize(("method", "path"), [("get", LIST), ("get", ADD), ("get", REMOVE)])
def test_the_browsable_api_renders_for_staff_in_a_browser(admin_client, make_customer, method, path):
    make_customer()

    response = getattr(admin_client, method)(path, HTTP_ACCEPT="text/html")

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.METHOD_NOT_ALLOWED)
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("[" * 100_000, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),  # more arrays than a form may have fields
        ("[" * 600 + "]" * 600, HTTPStatus.BAD_REQUEST),  # deeper than the parser may recurse
        (
            '{"code": "0513001", "name": "' + "x" * 100 + '"' + ', "n": 0' * 1000 + "}",
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        ),
    ],
)
def test_add_refuses_json_it_cannot_parse_safely_before_parsing_it(staff_client, body, status):
    response = staff_client(CREATE).generic("POST", ADD, body, content_type="application/json")

    assert response.status_code == status, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert not Customer.objects.exists()


def test_options_shows_the_fields_to_staff_but_no_docstring(staff_client):
    response = staff_client(CREATE).options(ADD)

    assert response.status_code == HTTPStatus.OK
    assert "description" not in response.json()
    assert "docs/" not in response.content.decode() and "``" not in response.content.decode()
