"""``GET|POST /api/group/commit``: the user commit's coverage, lighter, plus what only groups have (``ctime``)."""

import datetime
import json
import urllib.parse
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_remove
from telemetry.models import ImGroup, UnregisteredServer
from telemetry.services import group_batch_commit

pytestmark = pytest.mark.django_db

URL = "/api/group/commit"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def group(gid="616b6865-7503-4d27-92c7-c6b94e1c8cc2", code="0513001", **fields):
    return {
        "code": code,
        "gid": gid,
        "name": "中威官方群",
        "createrid": "36",
        "creatername": "施东海",
        "ucount": 178,
        "msgcount": 1878,
        "ctime": "2016-08-09",
        "fcount": 32,
        "ncount": 24,
        **fields,
    }


def groups(count, **fields):
    return [group(gid=f"group-{i:06d}", **fields) for i in range(count)]


def post_form(client, records, *, encoding="utf-8"):
    body = urllib.parse.urlencode({"data": json.dumps(records, ensure_ascii=False)}, encoding=encoding)
    return client.generic("POST", URL, body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def customer(make_customer):
    return make_customer()


def assert_ok(response, accepted, rejected=()):
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert (body["status"], body["accepted"]) == ("ok", accepted)
    assert [entry["index"] for entry in body["rejected"]] == list(rejected)
    return body


def test_a_form_post_stores_every_field_of_every_group(api_client, customer):
    assert_ok(post_form(api_client, [group(), group(gid="2")]), accepted=2)

    stored = ImGroup.objects.get(customer=customer, gid="616b6865-7503-4d27-92c7-c6b94e1c8cc2")
    assert (stored.name, stored.createrid, stored.creatername) == ("中威官方群", "36", "施东海")
    assert [getattr(stored, name) for name in ImGroup.FIGURES] == [178, 1878, 32, 24]
    assert stored.ctime == datetime.datetime(2016, 8, 9, tzinfo=SHANGHAI)


def test_a_get_json_body_and_multipart_are_accepted(api_client, customer):
    query_string = urllib.parse.urlencode({"data": json.dumps(groups(120))})
    assert_ok(api_client.get(URL, QUERY_STRING=query_string), accepted=120)
    assert_ok(api_client.post(URL, {"data": groups(2)}, format="json"), accepted=2)
    assert_ok(api_client.post(URL, {"data": json.dumps(groups(3))}, format="multipart"), accepted=3)
    assert ImGroup.objects.count() == 120


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2016-08-09", datetime.datetime(2016, 8, 9, tzinfo=SHANGHAI)),
        ("2016-08-09 13:45:30", datetime.datetime(2016, 8, 9, 13, 45, 30, tzinfo=SHANGHAI)),
        ("2016/08/09", datetime.datetime(2016, 8, 9, tzinfo=SHANGHAI)),
        ("", None),
        (None, None),
    ],
)
def test_each_date_form_is_china_standard_time(api_client, customer, sent, stored):
    assert_ok(post_form(api_client, [group(ctime=sent)]), accepted=1)
    assert ImGroup.objects.get().ctime == stored


@pytest.mark.parametrize(
    "sent",
    ["2016-02-30", "2016-08-09T13:45:30", "09/08/2016", "2016-8-9", "2016-08-09 25:00:00", 20160809, "yesterday"],
)
def test_a_bad_ctime_rejects_its_record(api_client, customer, sent):
    body = assert_ok(post_form(api_client, [group(ctime=sent), group(gid="fine")]), accepted=1, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == ["ctime"]


@pytest.mark.parametrize("value", [-1, 2**63, True, "1.5", None])
def test_a_bad_count_rejects_its_record(api_client, customer, value):
    body = assert_ok(post_form(api_client, [group(msgcount=value), group(gid="fine")]), accepted=1, rejected=[0])
    assert list(body["rejected"][0]["errors"]) == ["msgcount"]


def test_numeric_ids_and_decimal_strings_are_accepted(api_client, customer):
    assert_ok(post_form(api_client, [group(gid=7, createrid=36, ucount="178")]), accepted=1)
    stored = ImGroup.objects.get()
    assert (stored.gid, stored.createrid, stored.ucount) == ("7", "36", 178)


def test_data_that_is_not_an_array_is_a_400_and_stores_nothing(api_client, customer):
    for body in (b"data=%7B%7D", b"data=%5B", b"other=1"):
        response = api_client.generic("POST", URL, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "data" in response.json()["errors"]
    assert not ImGroup.objects.exists()


def test_the_same_gid_twice_in_one_batch_keeps_the_later_record(api_client, customer):
    assert_ok(post_form(api_client, [group(ucount=1), group(ucount=2)]), accepted=2)
    assert ImGroup.objects.get().ucount == 2


def test_unknown_and_removed_codes_reject_their_records(api_client, make_customer):
    make_customer(code="0513001")
    customer_remove(customer=make_customer(code="0512002", name="苏州"))

    records = [group(code="0999999"), group(code="0512002"), group(), group(code="0512003", gid="x")]
    body = assert_ok(post_form(api_client, records), accepted=1, rejected=[0, 1, 3])
    assert all(list(entry["errors"]) == ["code"] for entry in body["rejected"])
    assert sorted(UnregisteredServer.objects.values_list("code", flat=True)) == ["0512003", "0999999"]


def test_a_gb18030_body_round_trips_exactly(api_client, customer):
    name = "中威官方群𠮷€"
    assert_ok(post_form(api_client, [group(name=name, creatername="施东海")], encoding="gb18030"), accepted=1)
    assert (ImGroup.objects.get().name, ImGroup.objects.get().creatername) == (name, "施东海")


def test_a_body_in_neither_encoding_is_a_400(api_client, customer):
    body = b"data=" + urllib.parse.quote(json.dumps([group()])).encode() + b"%80"
    response = api_client.generic("POST", URL, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not ImGroup.objects.exists()


def test_a_later_batch_updates_in_place_and_keeps_first_reported_at(customer):
    first = datetime.datetime(2024, 1, 1, 8, tzinfo=datetime.UTC)
    later = first + datetime.timedelta(hours=1)
    group_batch_commit(records=[group()], now=first)
    group_batch_commit(records=[group(ncount=99)], now=later)

    stored = ImGroup.objects.get()
    assert (stored.ncount, stored.first_reported_at, stored.last_reported_at) == (99, first, later)


def test_the_number_of_queries_does_not_grow_with_the_batch(customer):
    group_batch_commit(records=groups(3))
    queries = {}
    for count in (10, 1_000):
        with CaptureQueriesContext(connection) as captured:
            assert group_batch_commit(records=groups(count)).accepted == count
        queries[count] = [q["sql"] for q in captured.captured_queries]
        if connection.vendor != "postgresql":  # bulk_create's batches, at SQLite's 999-parameter cap
            queries[count] = [sql for sql in queries[count] if not sql.startswith('INSERT INTO "telemetry_imgroup"')]

    assert len(queries[10]) == len(queries[1_000])
