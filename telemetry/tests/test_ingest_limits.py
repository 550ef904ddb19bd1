"""What a request may cost (docs/protocol.md, "Limits"): bodies, records per batch, JSON depth and size, answers.

Every refusal is a 4xx with the one error body, before the body is parsed; a batch's answer has a bounded size
whatever it holds. The same bodies at full size, against the production server and with the worker's memory,
are in tests/test_faults_bodies.py.
"""

import json
import urllib.parse
from http import HTTPStatus

import pytest

from telemetry.ingest_parsing import MAX_LITERAL_PERCENTS
from telemetry.models import ImGroup, ImUser, ServerReport
from telemetry.services import REJECTIONS_LISTED

pytestmark = pytest.mark.django_db

COMMITS = ("/api/user/commit", "/api/group/commit", "/api/server/commit")
FIGURES = ("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs")


def user(uuid: str, **fields) -> dict:
    return {"code": "0513001", "uuid": uuid, "nickname": "龚超", **dict.fromkeys(FIGURES, 1), **fields}


def post(client, path: str, body: bytes | str, content_type: str = "application/json"):
    return client.generic("POST", path, body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")


def post_form(client, path: str, fields: dict):
    return post(client, path, urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")


@pytest.fixture
def customer(make_customer):
    return make_customer(code="0513001")


def assert_nothing_stored():
    assert (ImUser.objects.count(), ImGroup.objects.count(), ServerReport.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize("path", COMMITS)
def test_json_nested_100_000_deep_is_a_400_and_never_parsed(client, customer, path):
    response = post(client, path, "[" * 100_000)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert set(response.json()) == {"detail", "errors"}
    assert_nothing_stored()


@pytest.mark.parametrize("path", COMMITS[:2])
def test_a_data_parameter_nested_too_deep_is_a_400_naming_data(client, customer, path):
    response = post_form(client, path, {"data": "[" * 100_000})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["data"] == ["JSON nested more than 500 levels deep."]


def test_a_5000_digit_integer_rejects_only_its_own_record(client, customer):
    second = json.dumps(user("u1")).replace('"fmsgs": 1', '"fmsgs": ' + "9" * 5000)
    body = f"[{json.dumps(user('u0'))},{second}]"

    response = post(client, "/api/user/commit", body)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"] == [
        {"index": 1, "errors": {"fmsgs": ["Ensure this number is at most 9223372036854775807."]}}
    ]
    assert list(ImUser.objects.values_list("uuid", flat=True)) == ["u0"]


def test_a_huge_integer_as_an_id_or_a_negative_one_is_rejected_by_its_own_rule(client, customer):
    second = (
        json.dumps(user("SECOND", tmsgs=0))
        .replace('"SECOND"', "7" * 5000)
        .replace('"tmsgs": 0', '"tmsgs": -' + "7" * 90)
    )
    body = f"[{json.dumps(user('u0'))},{second},{json.dumps(user('u2'))}]"

    response = post(client, "/api/user/commit", body)

    assert response.json()["rejected"] == [
        {
            "index": 1,
            "errors": {
                "uuid": ["Ensure this value has at most 64 characters."],
                "tmsgs": ["Ensure this number is at least 0."],
            },
        }
    ]
    assert ImUser.objects.count() == 2


def test_a_batch_over_the_record_limit_is_a_413_naming_data(client, customer, settings):
    settings.TELEMETRY_MAX_RECORDS = 10

    response = post(client, "/api/user/commit", json.dumps([user(f"u{i}") for i in range(11)]))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()["errors"]["data"] == ["A batch holds at most 10 records, and 384 JSON values in all."]
    assert_nothing_stored()


@pytest.mark.parametrize("body", ["[" + "0," * 400 + "0]", "[" + "{}," * 100 + "{}]", "]" * 200])
def test_json_that_may_hold_more_values_than_a_batch_is_a_413_before_it_is_parsed(client, customer, settings, body):
    settings.TELEMETRY_MAX_RECORDS = 10  # 384 values, 84 arrays and objects

    for path in COMMITS:
        response = post(client, path, body)

        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, (path, response.content)
    assert_nothing_stored()


def test_a_batch_of_the_most_records_is_accepted(client, customer, settings):
    settings.TELEMETRY_MAX_RECORDS = 10

    response = post(client, "/api/user/commit", json.dumps([user(f"u{i}", nickname="a,b,[c]") for i in range(10)]))

    assert response.json()["accepted"] == 10


def test_the_answer_lists_the_first_rejections_and_counts_the_rest(client, customer):
    bad = {"code": 513001}
    records = [bad] * (REJECTIONS_LISTED + 49) + [user("last")]

    response = post(client, "/api/user/commit", json.dumps(records))

    body = response.json()
    assert body["accepted"] == 1
    assert [entry["index"] for entry in body["rejected"]] == list(range(REJECTIONS_LISTED))
    assert len(body["rejected"][0]["errors"]) == 9  # every reason of a listed record
    assert body["rejected_unlisted"] == 49
    assert list(ImUser.objects.values_list("uuid", flat=True)) == ["last"]


def test_an_answer_with_few_rejections_has_no_count(client, customer):
    response = post(client, "/api/user/commit", json.dumps([{"code": 513001}, user("u1")]))

    assert set(response.json()) == {"status", "accepted", "rejected"}


def test_a_form_of_more_fields_than_django_allows_is_a_413(client, customer, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = post(client, "/api/server/commit", "code=0513001" + "&x=1" * 10, "application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert_nothing_stored()


def test_a_body_of_many_literal_percent_signs_is_a_400(client, customer):
    body = "code=0513001&name=" + "%" * (MAX_LITERAL_PERCENTS + 1)

    response = post(client, "/api/server/commit", body, "application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert_nothing_stored()


def test_a_few_literal_percent_signs_are_kept_beside_escapes(client, customer):
    body = "code=0513001&name=100%%20%E4%B8%AD%zz%"

    response = post(client, "/api/server/commit", body, "application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.OK, response.content
    assert ServerReport.objects.get().name == "100% 中%zz%"


# --- the lookup ---------------------------------------------------------------------------------------------


def test_a_lookup_body_over_4_kb_is_a_413_before_it_is_read(client, customer):
    response = post(client, "/api/customer/info", json.dumps({"code": "0513001", "pad": "x" * 4096}))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"detail": "The request is too large.", "errors": {}}


def test_a_small_lookup_body_still_answers(client, customer):
    response = post(client, "/api/customer/info", json.dumps({"code": "0513001"}))

    assert response.json()["code"] == "0513001"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("[" * 4000, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),  # more arrays than a form may have fields
        ("[" * 600 + "]" * 600, HTTPStatus.BAD_REQUEST),  # deeper than the parser may recurse
    ],
)
def test_a_lookup_body_nested_deep_is_refused_not_a_500(client, customer, body, status):
    response = post(client, "/api/customer/info", body)

    assert response.status_code == status, response.content
    assert set(response.json()) == {"detail", "errors"}


# --- OPTIONS ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/customer/info", *COMMITS])
def test_options_on_a_machine_endpoint_shows_no_docstring(client, path):
    response = client.options(path)

    assert response.status_code == HTTPStatus.OK
    assert "description" not in response.json()
    assert "docs/protocol.md" not in response.content.decode()
