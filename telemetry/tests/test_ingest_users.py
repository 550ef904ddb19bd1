"""``GET|POST /api/user/commit`` (docs/protocol.md, "Server interface"): wire forms, record rules, upsert."""

import datetime
import json
import math
import urllib.parse
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_remove
from telemetry.models import ImUser, UnregisteredServer
from telemetry.services import user_batch_commit

pytestmark = pytest.mark.django_db

URL = "/api/user/commit"
NICKNAME = "龚超€𠮷"  # Chinese, a euro sign and a character outside the BMP: GB18030 encodes them all


def user(uuid="616b6865-7503-4d27-92c7-c6b94e1c8cc2", code="0513001", **fields):
    return {
        "code": code,
        "uuid": uuid,
        "nickname": "龚超",
        "onlinetime": 345,
        "andtimes": 45,
        "pctimes": 120,
        "iostimes": 180,
        "fmsgs": 24,
        "tmsgs": 32,
        **fields,
    }


def users(count, code="0513001", **fields):
    return [user(uuid=f"user-{i:06d}", code=code, **fields) for i in range(count)]


def as_json(records) -> str:
    return json.dumps(records, ensure_ascii=False)


def post_form(client, records, *, encoding="utf-8", path=URL):
    body = urllib.parse.urlencode({"data": as_json(records)}, encoding=encoding)
    return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded")


def post_body(client, body: bytes, content_type: str, path=URL):
    return client.generic("POST", path, body, content_type=content_type)


def get_query(client, query_string: str, path=URL):
    return client.get(path, QUERY_STRING=query_string)


@pytest.fixture
def customer(make_customer):
    return make_customer()


def assert_ok(response, accepted, rejected=()):
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["status"] == "ok"
    assert body["accepted"] == accepted
    assert [entry["index"] for entry in body["rejected"]] == list(rejected)
    return body


def assert_bad_data(response):
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "data" in response.json()["errors"]
    assert ImUser.objects.count() == 0


# --- wire forms -------------------------------------------------------------------------------------------


def test_a_form_post_stores_every_figure_of_every_user(api_client, customer):
    response = post_form(api_client, [user(), user(uuid="second", nickname="施东海", fmsgs=7)])

    assert_ok(response, accepted=2)
    stored = ImUser.objects.get(customer=customer, uuid="616b6865-7503-4d27-92c7-c6b94e1c8cc2")
    assert stored.nickname == "龚超"
    assert [getattr(stored, name) for name in ImUser.FIGURES] == [345, 45, 120, 180, 24, 32]
    assert stored.first_reported_at == stored.last_reported_at
    assert ImUser.objects.get(uuid="second").fmsgs == 7


def test_a_get_with_120_users_in_the_query_string_is_stored(api_client, customer):
    query_string = urllib.parse.urlencode({"data": as_json(users(120))})
    assert len(query_string) > 16_000

    assert_ok(get_query(api_client, query_string), accepted=120)
    assert ImUser.objects.filter(customer=customer).count() == 120


def test_a_form_post_of_50000_users_is_accepted(api_client, customer):
    records = users(50_000)
    records[-1]["nickname"] = NICKNAME
    response = post_form(api_client, records)

    assert_ok(response, accepted=50_000)
    assert ImUser.objects.filter(customer=customer).count() == 50_000
    assert ImUser.objects.get(uuid="user-049999").nickname == NICKNAME


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda records: {"data": records}, id="data-array"),
        pytest.param(lambda records: {"data": as_json(records)}, id="data-as-json-text"),
        pytest.param(lambda records: records, id="bare-array"),
    ],
)
def test_a_json_body_is_accepted(api_client, customer, body):
    response = post_body(api_client, as_json(body([user(), user(uuid="2")])).encode(), "application/json")

    assert_ok(response, accepted=2)
    assert ImUser.objects.filter(customer=customer).count() == 2


def test_a_json_body_sent_without_a_json_content_type_is_read_as_json(api_client, customer):
    assert_ok(post_body(api_client, as_json([user()]).encode(), "text/plain"), accepted=1)


def test_a_multipart_post_is_accepted(api_client, customer):
    response = api_client.post(URL, {"data": as_json([user(nickname=NICKNAME)])}, format="multipart")

    assert_ok(response, accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_multipart_post_with_data_as_a_file_is_accepted(api_client, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("users.json", as_json([user()]).encode(), content_type="application/json")
    assert_ok(api_client.post(URL, {"data": upload}, format="multipart"), accepted=1)


def test_the_path_with_a_trailing_slash_answers_without_redirect(api_client, customer):
    assert_ok(post_form(api_client, [user()], path=URL + "/"), accepted=1)


def test_parameters_in_the_url_of_a_post_are_read(api_client, customer):
    query_string = urllib.parse.urlencode({"data": as_json([user()])})
    response = api_client.generic(
        "POST", f"{URL}?{query_string}", b"", content_type="application/x-www-form-urlencoded"
    )

    assert_ok(response, accepted=1)


# --- a batch that is not a batch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/x-www-form-urlencoded"),
        (b"other=1", "application/x-www-form-urlencoded"),
        (b"data=", "application/x-www-form-urlencoded"),
        (b"data=%5B%7B%22code%22", "application/x-www-form-urlencoded"),  # cut short
        (b"data=not+json", "application/x-www-form-urlencoded"),
        (b'data={"code":"0513001"}', "application/x-www-form-urlencoded"),  # an object, not an array
        (b"data=42", "application/x-www-form-urlencoded"),
        (b'[{"code": "0513001",', "application/json"),
        (b'{"data": 5}', "application/json"),
        (b'{"data": "[{"}', "application/json"),
        (b'{"other": []}', "application/json"),
        (b'"data"', "application/json"),
    ],
)
def test_data_missing_not_json_or_not_an_array_is_a_400_naming_data(api_client, customer, body, content_type):
    assert_bad_data(post_body(api_client, body, content_type))


def test_a_get_without_data_is_a_400_naming_data(api_client, customer):
    assert_bad_data(api_client.get(URL))


def test_a_body_far_beyond_the_limit_is_a_413(api_client, customer, settings):
    settings.TELEMETRY_MAX_BODY_BYTES = 1_000
    response = post_form(api_client, users(20))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json()["detail"]
    assert ImUser.objects.count() == 0


def test_a_body_beyond_djangos_upload_limit_is_a_413(api_client, customer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = post_body(api_client, as_json(users(20)).encode(), "application/json")

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert ImUser.objects.count() == 0


# --- one record at a time ----------------------------------------------------------------------------------


def test_one_bad_record_is_rejected_alone_and_reported_by_index(api_client, customer):
    records = users(5)
    records[3]["fmsgs"] = "many"

    body = assert_ok(post_form(api_client, records), accepted=4, rejected=[3])
    assert list(body["rejected"][0]["errors"]) == ["fmsgs"]
    assert sorted(ImUser.objects.values_list("uuid", flat=True)) == [
        "user-000000",
        "user-000001",
        "user-000002",
        "user-000004",
    ]


def test_a_record_that_is_not_an_object_is_rejected_by_index(api_client, customer):
    body = assert_ok(post_form(api_client, [user(), "user", [1], None]), accepted=1, rejected=[1, 2, 3])
    assert "non_field_errors" in body["rejected"][0]["errors"]


def test_every_error_of_a_record_is_reported(api_client, customer):
    body = assert_ok(post_form(api_client, [user(uuid=" ", pctimes=-1, tmsgs=True)]), accepted=0, rejected=[0])
    assert set(body["rejected"][0]["errors"]) == {"uuid", "pctimes", "tmsgs"}


@pytest.mark.parametrize("missing", ["code", "uuid", "nickname", *ImUser.FIGURES])
def test_a_record_missing_a_key_is_rejected(api_client, customer, missing):
    record = user()
    del record[missing]

    body = assert_ok(post_form(api_client, [record, user(uuid="fine")]), accepted=1, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == [missing]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (0, 0),
        (178, 178),
        ("178", 178),
        (" 178 ", 178),
        ("00178", 178),
        (178.0, 178),
        (2**63 - 1, 2**63 - 1),
        (str(2**63 - 1), 2**63 - 1),
    ],
)
def test_numbers_arrive_as_numbers_or_decimal_strings(api_client, customer, value, stored):
    assert_ok(post_form(api_client, [user(fmsgs=value)]), accepted=1)
    assert ImUser.objects.get().fmsgs == stored


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(-1, id="negative"),
        pytest.param("-1", id="negative-text"),
        pytest.param(2**63, id="beyond-signed-64-bits"),
        pytest.param(str(2**63), id="beyond-signed-64-bits-text"),
        pytest.param(2**64 + 1, id="beyond-64-bits"),
        pytest.param(10**30, id="far-beyond-64-bits"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(1.5, id="fraction"),
        pytest.param("1.5", id="fraction-text"),
        pytest.param("1e3", id="exponent-text"),
        pytest.param("", id="empty"),
        pytest.param(None, id="null"),
        pytest.param("many", id="word"),
        pytest.param("١٢٣", id="arabic-indic-digits"),
        pytest.param([1], id="array"),
    ],
)
def test_a_count_that_is_not_a_non_negative_64_bit_number_rejects_its_record(api_client, customer, value):
    body = assert_ok(post_form(api_client, [user(fmsgs=value), user(uuid="fine")]), accepted=1, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == ["fmsgs"]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "18446744073709551616", "NaN", "Infinity"])
def test_a_json_number_no_64_bit_integer_can_hold_rejects_only_its_record(api_client, customer, literal):
    body = (
        "[" + as_json(user()).replace('"fmsgs": 24', f'"fmsgs": {literal}') + "," + as_json(user(uuid="2")) + "]"
    ).encode()

    result = assert_ok(post_body(api_client, body, "application/json"), accepted=1, rejected=[0])
    assert list(result["rejected"][0]["errors"]) == ["fmsgs"]


@pytest.mark.parametrize(
    "nickname",
    [
        pytest.param("x" * 101, id="too-long"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("龚\ufffd", id="replacement-character"),
        pytest.param(42, id="number"),
    ],
)
def test_a_nickname_the_database_or_the_protocol_refuses_rejects_its_record(api_client, customer, nickname):
    body = assert_ok(post_form(api_client, [user(nickname=nickname)]), accepted=0, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == ["nickname"]


def test_a_lone_surrogate_in_json_rejects_its_record(api_client, customer):
    body = b'[{"code": "0513001", "uuid": "a", "nickname": "\\ud800", "onlinetime": 1, "andtimes": 1, "pctimes": 1, '
    body += b'"iostimes": 1, "fmsgs": 1, "tmsgs": 1}]'

    result = assert_ok(post_body(api_client, body, "application/json"), accepted=0, rejected=[0])
    assert list(result["rejected"][0]["errors"]) == ["nickname"]


def test_a_null_nickname_is_stored_empty_and_numeric_ids_as_text(api_client, customer):
    assert_ok(post_form(api_client, [user(uuid=36, nickname=None)]), accepted=1)
    assert ImUser.objects.get().uuid == "36"
    assert ImUser.objects.get().nickname == ""


def test_the_same_uuid_twice_in_one_batch_keeps_the_later_record(api_client, customer):
    records = [user(uuid="a", fmsgs=1), user(uuid="b"), user(uuid="a", fmsgs=2, nickname="later")]

    assert_ok(post_form(api_client, records), accepted=3)
    assert ImUser.objects.count() == 2
    stored = ImUser.objects.get(uuid="a")
    assert (stored.fmsgs, stored.nickname) == (2, "later")


def test_one_batch_may_hold_several_customers(api_client, make_customer):
    first, second = make_customer(code="0513001"), make_customer(code="0512002", name="苏州")
    records = [user(uuid="same", code="0513001", fmsgs=1), user(uuid="same", code="0512002", fmsgs=2)]

    assert_ok(post_form(api_client, records), accepted=2)
    assert ImUser.objects.get(customer=first).fmsgs == 1
    assert ImUser.objects.get(customer=second).fmsgs == 2


def test_an_unknown_code_rejects_its_records_and_is_recorded_as_unregistered(api_client, customer):
    records = [user(), user(code="0999999"), user(uuid="x", code="0999999"), user(code="12")]

    body = assert_ok(post_form(api_client, records), accepted=1, rejected=[1, 2, 3])
    assert all(list(entry["errors"]) == ["code"] for entry in body["rejected"])
    sighting = UnregisteredServer.objects.get()  # a malformed code ("12") is not a sighting
    assert sighting.code == "0999999"
    assert sighting.reports == 1
    assert sighting.sender_address == "127.0.0.1"
    assert sighting.first_seen_at == sighting.last_seen_at

    post_form(api_client, [user(code="0999999")])
    sighting.refresh_from_db()
    assert sighting.reports == 2
    assert sighting.last_seen_at > sighting.first_seen_at


def test_unregistered_codes_stop_being_recorded_when_the_list_is_full(api_client, customer, settings):
    settings.TELEMETRY_MAX_UNREGISTERED = 2
    post_form(api_client, [user(code="0900001"), user(code="0900002"), user(code="0900003")])
    post_form(api_client, [user(code="0900004"), user(code="0900001")])

    assert sorted(UnregisteredServer.objects.values_list("code", "reports")) == [("0900001", 2), ("0900002", 1)]


def test_a_removed_customer_rejects_its_records(api_client, make_customer):
    make_customer(code="0513001")
    customer_remove(customer=make_customer(code="0512002", name="苏州"))

    body = assert_ok(post_form(api_client, [user(code="0512002"), user()]), accepted=1, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == ["code"]
    assert not UnregisteredServer.objects.exists()
    assert ImUser.objects.get().customer.code == "0513001"


# --- text encodings -----------------------------------------------------------------------------------------


def test_a_gb18030_form_body_is_decoded_exactly(api_client, customer):
    assert_ok(post_form(api_client, [user(nickname=NICKNAME)], encoding="gb18030"), accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_gb18030_form_body_declaring_its_charset_is_decoded_exactly(api_client, customer):
    body = urllib.parse.urlencode({"data": as_json([user(nickname=NICKNAME)])}, encoding="gb18030")
    response = post_body(api_client, body.encode(), "application/x-www-form-urlencoded; charset=GB18030")

    assert_ok(response, accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_percent_encoded_gb18030_query_string_is_decoded_exactly(api_client, customer):
    query_string = urllib.parse.urlencode({"data": as_json([user(nickname=NICKNAME)])}, encoding="gb18030")

    assert_ok(get_query(api_client, query_string), accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_raw_gb18030_query_string_is_decoded_exactly(api_client, customer):
    # Not percent-encoded: the bytes as the server wrote them, as a WSGI server hands them over (Latin-1).
    raw = b"data=" + as_json([user(nickname=NICKNAME)]).encode("gb18030")

    assert_ok(get_query(api_client, raw.decode("iso-8859-1")), accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_gb18030_json_body_is_decoded_exactly(api_client, customer):
    body = as_json({"data": [user(nickname=NICKNAME)]}).encode("gb18030")

    assert_ok(post_body(api_client, body, "application/json"), accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


def test_a_gb18030_multipart_body_is_decoded_exactly(api_client, customer):
    boundary = "zwboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n'.encode()
        + as_json([user(nickname=NICKNAME)]).encode("gb18030")
        + f"\r\n--{boundary}--\r\n".encode()
    )

    assert_ok(post_body(api_client, body, f"multipart/form-data; boundary={boundary}"), accepted=1)
    assert ImUser.objects.get().nickname == NICKNAME


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"data=" + as_json([user()]).encode() + b"%FF", "application/x-www-form-urlencoded"),
        (b"data=" + urllib.parse.quote(as_json([user()])).encode() + b"\xff", "application/x-www-form-urlencoded"),
        (as_json([user()]).encode()[:-1] + b"\x80]", "application/json"),
    ],
)
def test_a_body_that_is_neither_utf8_nor_gb18030_is_a_400(api_client, customer, body, content_type):
    response = post_body(api_client, body, content_type)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert ImUser.objects.count() == 0


def test_a_query_string_that_is_neither_utf8_nor_gb18030_is_a_400(api_client, customer):
    query_string = urllib.parse.urlencode({"data": as_json([user()])}) + "%FF"

    assert get_query(api_client, query_string).status_code == HTTPStatus.BAD_REQUEST
    assert ImUser.objects.count() == 0


# --- upsert --------------------------------------------------------------------------------------------------


def test_a_later_batch_updates_in_place_and_keeps_first_reported_at(customer):
    first = datetime.datetime(2024, 1, 1, 8, tzinfo=datetime.UTC)
    later = first + datetime.timedelta(hours=1)
    user_batch_commit(records=[user(uuid="a"), user(uuid="b")], now=first)

    result = user_batch_commit(records=[user(uuid="a", fmsgs=99, nickname="改名")], now=later)

    assert result.accepted == 1
    stored = ImUser.objects.get(uuid="a")
    assert (stored.fmsgs, stored.nickname) == (99, "改名")
    assert (stored.first_reported_at, stored.last_reported_at) == (first, later)
    untouched = ImUser.objects.get(uuid="b")  # missing from the later batch: kept as it was
    assert (untouched.fmsgs, untouched.last_reported_at) == (24, first)


def test_a_recommit_through_the_api_updates_in_place(api_client, customer):
    post_form(api_client, [user(fmsgs=1)])
    created = ImUser.objects.get()

    assert_ok(post_form(api_client, [user(fmsgs=2)]), accepted=1)
    stored = ImUser.objects.get()
    assert (stored.pk, stored.fmsgs, stored.first_reported_at) == (created.pk, 2, created.first_reported_at)
    assert stored.last_reported_at > created.last_reported_at


def _upsert_batches(count: int) -> int:
    """How many INSERT statements ``bulk_create`` needs for ``count`` users (PostgreSQL's COPY path: one)."""
    if connection.vendor == "postgresql":
        return 1
    fields = [f for f in ImUser._meta.concrete_fields if not f.primary_key]
    return math.ceil(count / connection.ops.bulk_batch_size(fields, [None] * count))


def test_the_number_of_queries_does_not_grow_with_the_batch(customer):
    user_batch_commit(records=[*users(3), user(code="0999999")])  # both batches below update existing rows too
    queries = {}
    for count in (10, 1_000):
        records = [*users(count), user(code="0999999")]  # with an unknown code, so the sighting path is counted too
        with CaptureQueriesContext(connection) as captured:
            assert user_batch_commit(records=records).accepted == count
        upserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "telemetry_imuser"')]
        assert len(upserts) == _upsert_batches(count)
        queries[count] = len(captured.captured_queries) - len(upserts)

    assert queries[10] == queries[1_000]
    if connection.vendor == "postgresql":
        assert queries[10] <= 10  # + the day's usage totals: one aggregate, one upsert
