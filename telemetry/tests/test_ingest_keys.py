"""Server authentication, opt-in per customer (docs/operations.md "Ingest keys"): keys, the commits, the console."""

import hashlib
import hmac
import json
import urllib.parse
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from customers import models as customer_models
from customers.models import INGEST_KEY_PREFIX, Customer
from customers.services import customer_ingest_key_require, customer_ingest_key_rotate
from telemetry.models import ImGroup, ImUser, ServerReport, ServerStatus
from telemetry.services import user_batch_commit

pytestmark = pytest.mark.django_db

SERVER = "/api/server/commit"
USERS = "/api/user/commit"
GROUPS = "/api/group/commit"


def user(code, uuid="u-1", **fields):
    figures = {"onlinetime": 1, "andtimes": 2, "pctimes": 3, "iostimes": 4, "fmsgs": 5, "tmsgs": 6}
    return {"code": code, "uuid": uuid, "nickname": "龚超", **figures, **fields}


def group(code, gid="g-1"):
    return {
        "code": code,
        "gid": gid,
        "name": "研发部",
        "createrid": "u-1",
        "creatername": "龚超",
        "ucount": 3,
        "msgcount": 9,
        "ctime": "2016-09-21",
        "fcount": 0,
        "ncount": 0,
    }


def post_form(client, path, parameters, **extra):
    body = urllib.parse.urlencode(parameters)
    return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded", **extra)


def post_batch(client, path, records, *, key=None, **extra):
    parameters = {"data": json.dumps(records, ensure_ascii=False)}
    if key is not None:
        parameters["key"] = key
    return post_form(client, path, parameters, **extra)


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def keyed(make_customer):
    """A customer that requires its key, and that key."""
    customer = make_customer(code="0755002", name="深圳分公司")
    key = customer_ingest_key_rotate(customer=customer)
    customer_ingest_key_require(customer=customer, required=True)
    return customer, key


# --- keys --------------------------------------------------------------------------------------------------


def test_a_rotated_key_is_returned_once_and_only_its_sha256_is_stored(jiangsu):
    key = customer_ingest_key_rotate(customer=jiangsu)

    jiangsu.refresh_from_db()
    assert key.startswith(INGEST_KEY_PREFIX)
    assert len(key) >= len(INGEST_KEY_PREFIX) + 43  # 32 random bytes, base64url
    assert jiangsu.ingest_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(Customer.objects.filter(pk=jiangsu.pk).values().get())
    assert jiangsu.ingest_key_rotated_at is not None
    assert not jiangsu.ingest_key_required  # generating a key requires nothing yet


def test_rotating_replaces_the_key_and_keeps_the_requirement(keyed, api_client):
    customer, old_key = keyed
    new_key = customer_ingest_key_rotate(customer=customer)

    assert new_key != old_key
    customer.refresh_from_db()
    assert customer.ingest_key_required
    assert api_client.get(SERVER, {"code": customer.code, "key": old_key}).status_code == HTTPStatus.UNAUTHORIZED
    assert api_client.get(SERVER, {"code": customer.code, "key": new_key}).status_code == HTTPStatus.OK


def test_requiring_a_key_that_was_never_generated_is_a_validation_error(jiangsu):
    with pytest.raises(ValidationError) as raised:
        customer_ingest_key_require(customer=jiangsu, required=True)

    assert "ingest_key_required" in raised.value.message_dict
    jiangsu.refresh_from_db()
    assert not jiangsu.ingest_key_required


def test_the_database_refuses_a_required_key_without_a_hash(jiangsu):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=jiangsu.pk).update(ingest_key_required=True)


def test_the_audit_trail_records_rotations_and_requirements_but_never_the_hash(keyed):
    customer, _key = keyed
    customer_ingest_key_require(customer=customer, required=False)

    fields = {field.name for field in Customer.history.model._meta.get_fields()}
    assert "ingest_key_hash" not in fields
    records = list(customer.history.order_by("history_date").values_list("ingest_key_required", flat=True))
    assert records[-3:] == [False, True, False]  # generated, required, waived
    assert customer.history.exclude(ingest_key_rotated_at=None).exists()


def test_keys_are_compared_in_constant_time(keyed, api_client, monkeypatch):
    customer, key = keyed
    calls = []
    compare_digest = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(customer_models.hmac, "compare_digest", spy)
    api_client.get(SERVER, {"code": customer.code, "key": "zwk_wrong"})

    assert calls == [(customer.ingest_key_hash, hashlib.sha256(b"zwk_wrong").hexdigest())]


def test_the_management_list_never_shows_the_key_hash(keyed, staff_client):
    customer, _key = keyed
    response = staff_client("customers.view_customer").get("/customer/list")

    assert response.status_code == HTTPStatus.OK
    assert customer.ingest_key_hash not in response.content.decode()
    assert not any(name.startswith("ingest_key") for name in response.json()["results"][0])


# --- /api/server/commit -------------------------------------------------------------------------------------


def test_open_ingest_stays_the_default(jiangsu, api_client):
    assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.OK


def test_a_key_that_is_generated_but_not_required_is_not_needed(jiangsu, api_client):
    customer_ingest_key_rotate(customer=jiangsu)

    assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.OK
    assert api_client.get(SERVER, {"code": jiangsu.code, "key": "zwk_anything"}).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param(None, "must carry its ingest key", id="missing"),
        pytest.param("zwk_wrong", "not the customer's ingest key", id="wrong"),
    ],
)
def test_a_required_key_missing_or_wrong_is_a_401_naming_key_and_stores_nothing(keyed, api_client, key, message):
    customer, _key = keyed
    parameters = {"code": customer.code, "name": "x"} | ({"key": key} if key else {})
    response = post_form(api_client, SERVER, parameters, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == ["key"]
    assert message in body["errors"]["key"][0]
    assert not ServerReport.objects.exists()
    assert not ServerStatus.objects.exists()


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda c, code, key: c.get(SERVER, {"code": code}, **bearer(key)), id="bearer-header"),
        pytest.param(lambda c, code, key: c.get(SERVER, {"code": code, "key": key}), id="query-string"),
        pytest.param(lambda c, code, key: post_form(c, SERVER, {"code": code, "key": key}), id="form-body"),
        pytest.param(lambda c, code, key: c.post(SERVER, {"code": code, "key": key}, format="json"), id="json-body"),
        pytest.param(
            lambda c, code, key: c.post(SERVER, {"code": code, "key": key}, format="multipart"), id="multipart"
        ),
        pytest.param(
            lambda c, code, key: post_form(c, f"{SERVER}?key={key}", {"code": code}), id="post-key-in-the-url"
        ),
    ],
)
def test_the_key_is_accepted_as_a_bearer_header_or_a_key_parameter(keyed, api_client, send):
    customer, key = keyed

    response = send(api_client, customer.code, key)

    assert response.status_code == HTTPStatus.OK, response.content
    assert ServerStatus.objects.filter(customer=customer).exists()


def test_a_key_that_is_not_text_is_no_key(keyed, api_client):
    customer, _key = keyed
    response = api_client.post(SERVER, {"code": customer.code, "key": 12345}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_another_customers_key_does_not_open_a_keyed_customer(keyed, make_customer, api_client):
    customer, _key = keyed
    other = make_customer(code="0100001", name="北京")
    other_key = customer_ingest_key_rotate(customer=other)

    response = api_client.get(SERVER, {"code": customer.code}, **bearer(other_key))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_an_unknown_code_is_still_a_404_whatever_the_key(api_client):
    assert api_client.get(SERVER, {"code": "0999999", "key": "zwk_x"}).status_code == HTTPStatus.NOT_FOUND


# --- batches ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "record", "model"), [(USERS, user, ImUser), (GROUPS, group, ImGroup)])
def test_a_keyed_customers_records_without_its_key_are_rejected_alone(keyed, jiangsu, api_client, path, record, model):
    customer, _key = keyed
    records = [record(jiangsu.code), record(customer.code), record(jiangsu.code, "id-2")]

    response = post_batch(api_client, path, records)

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [(entry["index"], list(entry["errors"])) for entry in body["rejected"]] == [(1, ["key"])]
    assert not model.objects.filter(customer=customer).exists()
    assert model.objects.filter(customer=jiangsu).exists()


def test_a_batch_with_the_key_stores_the_keyed_customer_and_the_open_ones(keyed, jiangsu, api_client):
    customer, key = keyed
    records = [user(jiangsu.code), user(customer.code)]

    by_header = post_batch(api_client, USERS, records, **bearer(key))
    by_parameter = post_batch(api_client, USERS, records, key=key)

    for response in (by_header, by_parameter):
        assert response.json() == {"status": "ok", "accepted": 2, "rejected": []}
    assert ImUser.objects.filter(customer=customer).count() == 1


def test_one_key_opens_only_its_own_customer_in_a_batch(keyed, make_customer, api_client):
    customer, key = keyed
    other = make_customer(code="0100001", name="北京")
    customer_ingest_key_rotate(customer=other)
    customer_ingest_key_require(customer=other, required=True)

    response = post_batch(api_client, USERS, [user(customer.code), user(other.code)], key=key)

    body = response.json()
    assert body["accepted"] == 1
    assert body["rejected"] == [{"index": 1, "errors": {"key": [body["rejected"][0]["errors"]["key"][0]]}}]


def test_a_json_body_may_carry_the_key_beside_data(keyed, api_client):
    customer, key = keyed
    response = api_client.post(USERS, {"data": [user(customer.code)], "key": key}, format="json")

    assert response.json()["accepted"] == 1


def test_checking_keys_adds_no_query(keyed, make_customer):
    customer, key = keyed
    first, second = make_customer(code="0100001", name="北京"), make_customer(code="0200002", name="上海")

    def count(batch, **options):
        with CaptureQueriesContext(connection) as captured:
            user_batch_commit(records=batch, **options)
        return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]])

    def fifty(code):
        return [user(code, f"u-{i}") for i in range(50)]

    count(fifty(first.code) + fifty(second.code) + fifty(customer.code), key=key)  # later commits update rows
    open_only = count(fifty(first.code) + fifty(second.code))
    with_keys = count(fifty(first.code) + fifty(customer.code), key=key)
    refused = count(fifty(first.code) + fifty(customer.code), key="zwk_wrong")

    assert with_keys == open_only
    assert refused == count(fifty(first.code))


# --- the console -------------------------------------------------------------------------------------------


def changelist_action(client, action, *customers):
    return client.post(
        "/admin/customers/customer/",
        {"action": action, "_selected_action": [str(c.pk) for c in customers]},
        follow=True,
    )


def test_the_console_shows_a_new_key_once_and_stores_only_its_hash(admin_client, jiangsu):
    response = changelist_action(admin_client, "rotate_ingest_key", jiangsu)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    jiangsu.refresh_from_db()
    key = next(word for word in page.replace("<", " ").replace(">", " ").split() if word.startswith("zwk_"))
    assert hashlib.sha256(key.encode()).hexdigest() == jiangsu.ingest_key_hash
    assert "no-store" in response["Cache-Control"]
    change_page = admin_client.get(f"/admin/customers/customer/{jiangsu.pk}/change/").content.decode()
    assert key not in change_page
    assert jiangsu.ingest_key_hash not in change_page


def test_the_console_requires_and_waives_the_key(admin_client, jiangsu):
    changelist_action(admin_client, "rotate_ingest_key", jiangsu)

    response = changelist_action(admin_client, "require_ingest_key", jiangsu)
    jiangsu.refresh_from_db()
    assert jiangsu.ingest_key_required
    assert jiangsu.code in response.content.decode()

    changelist_action(admin_client, "waive_ingest_key", jiangsu)
    jiangsu.refresh_from_db()
    assert not jiangsu.ingest_key_required


def test_the_console_will_not_require_a_key_never_generated(admin_client, jiangsu):
    response = changelist_action(admin_client, "require_ingest_key", jiangsu)

    jiangsu.refresh_from_db()
    assert not jiangsu.ingest_key_required
    assert jiangsu.code in response.content.decode()  # named in the error message


def test_only_operations_may_touch_keys(client, make_staff, jiangsu):
    client.force_login(make_staff("customers.view_customer", username="support"))

    page = client.get("/admin/customers/customer/").content.decode()
    for action in ("rotate_ingest_key", "require_ingest_key", "waive_ingest_key"):
        assert action not in page
    response = changelist_action(client, "rotate_ingest_key", jiangsu)
    jiangsu.refresh_from_db()
    assert not jiangsu.ingest_key_hash
    assert "zwk_" not in response.content.decode()
