"""``GET|POST /api/server/commit`` (docs/protocol.md, "Server interface") and the mismatch selector."""

import datetime
import json
import urllib.parse
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_remove, customer_update
from telemetry.models import ServerReport, ServerStatus, UnregisteredServer
from telemetry.selectors import customers_with_mismatch
from telemetry.services import server_report_commit

pytestmark = pytest.mark.django_db

URL = "/api/server/commit"


def report(**fields):
    return {
        "code": "0513001",
        "name": "江苏中威科技",
        "mac": "56:E8:F6:23:EF",
        "ip": "192.168.0.7",
        "timeout": "2016-09-21",
        "count": "178",
        "updatetimes": "32",
        **fields,
    }


def post_form(client, parameters, *, encoding="utf-8", path=URL, **extra):
    body = urllib.parse.urlencode(parameters, encoding=encoding)
    return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded", **extra)


@pytest.fixture
def customer(make_customer):
    return make_customer(mac="56:E8:F6:23:EF", timeout=datetime.date(2016, 9, 21))


def assert_ok(response):
    assert response.status_code == HTTPStatus.OK, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"status": "ok"}


def test_a_form_post_stores_the_report_as_history_and_as_the_latest_status(api_client, customer):
    assert_ok(post_form(api_client, report(), REMOTE_ADDR="203.0.113.9"))

    history = ServerReport.objects.get()
    status = ServerStatus.objects.get(customer=customer)
    for row in (history, status):
        assert (row.name, row.mac, row.ip) == ("江苏中威科技", "56:E8:F6:23:EF", "192.168.0.7")
        assert (row.timeout, row.count, row.updatetimes) == (datetime.date(2016, 9, 21), 178, 32)
        assert row.sender_address == "203.0.113.9"
    assert status.reported_at == history.reported_at == status.first_reported_at
    assert status.reports == 1
    assert not status.mac_mismatch
    assert not status.timeout_mismatch


def test_a_get_with_the_query_string_is_stored(api_client, customer):
    assert_ok(api_client.get(URL, report(count=5)))
    assert ServerStatus.objects.get().count == 5


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda client: client.post(URL, report(), format="json"), id="json"),
        pytest.param(lambda client: client.post(URL, report(), format="multipart"), id="multipart"),
        pytest.param(lambda client: post_form(client, report(), path=URL + "/"), id="trailing-slash"),
        pytest.param(lambda client: post_form(client, report(), encoding="gb18030"), id="gb18030-form"),
        pytest.param(
            lambda client: client.get(URL, QUERY_STRING=urllib.parse.urlencode(report(), encoding="gb18030")),
            id="gb18030-query-string",
        ),
    ],
)
def test_every_wire_form_is_accepted(api_client, customer, send):
    assert_ok(send(api_client))
    assert ServerStatus.objects.get().name == "江苏中威科技"


def test_a_json_body_may_send_numbers_as_numbers(api_client, customer):
    response = api_client.generic(
        "POST", URL, json.dumps(report(count=178, updatetimes=0)), content_type="application/json"
    )

    assert_ok(response)
    assert (ServerStatus.objects.get().count, ServerStatus.objects.get().updatetimes) == (178, 0)


def test_a_later_report_replaces_the_status_keeps_the_history_and_first_reported_at(customer):
    first = datetime.datetime(2024, 1, 1, 8, tzinfo=datetime.UTC)
    later = first + datetime.timedelta(hours=1)
    server_report_commit(code="0513001", count=1, now=first)
    server_report_commit(code="0513001", count=2, ip="10.0.0.1", now=later)

    status = ServerStatus.objects.get()
    assert (status.count, status.ip, status.reports) == (2, "10.0.0.1", 2)
    assert (status.first_reported_at, status.reported_at) == (first, later)
    assert list(ServerReport.objects.values_list("count", flat=True)) == [2, 1]


def test_a_report_takes_a_fixed_number_of_queries(customer):
    server_report_commit(code="0513001")
    with CaptureQueriesContext(connection) as captured:
        server_report_commit(code="0513001")

    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 4  # the customer, the history row, the previous status, the status upsert


def test_only_the_code_is_required(api_client, customer):
    assert_ok(api_client.get(URL, {"code": "0513001"}))

    status = ServerStatus.objects.get()
    assert (status.name, status.mac, status.ip, status.timeout, status.count) == ("", "", None, None, 0)


def test_a_missing_code_is_a_400_naming_code(api_client, customer):
    response = api_client.get(URL, {"name": "x"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["code"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "05a3001"),
        ("code", "513"),
        ("count", "-1"),
        ("count", "many"),
        ("count", str(2**63)),
        ("count", "1.5"),
        ("updatetimes", "-3"),
        ("timeout", "2016-13-01"),
        ("timeout", "21/09/2016"),
        ("timeout", "2016-9-21"),
        ("mac", "56:E8:F6:23"),
        ("mac", "not a mac"),
        ("ip", "192.168.0.300"),
        ("ip", "localhost"),
        ("name", "x" * 101),
        ("name", "江苏\ufffd"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_stores_nothing(api_client, customer, field, value):
    response = post_form(api_client, report(**{field: value}))

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert list(response.json()["errors"]) == [field]
    assert not ServerReport.objects.exists()
    assert not ServerStatus.objects.exists()
    assert not UnregisteredServer.objects.exists()


def test_a_json_boolean_count_is_a_400(api_client, customer):
    response = api_client.post(URL, report(count=True), format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["count"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2016-09-21", datetime.date(2016, 9, 21)),
        ("2016-09-21 23:59:59", datetime.date(2016, 9, 21)),
        ("2016/09/21", datetime.date(2016, 9, 21)),
    ],
)
def test_each_date_form_is_accepted(api_client, customer, sent, stored):
    assert_ok(post_form(api_client, report(timeout=sent)))
    assert ServerStatus.objects.get().timeout == stored


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("56:E8:F6:23:EF", "56:E8:F6:23:EF"),  # the document's own five-group example
        ("56-e8-f6-23-ef-01", "56:E8:F6:23:EF:01"),
        ("56e8f623ef01", "56:E8:F6:23:EF:01"),
        (" 56:e8:f6:23:ef:01 ", "56:E8:F6:23:EF:01"),
    ],
)
def test_the_mac_is_normalised(api_client, customer, sent, stored):
    assert_ok(post_form(api_client, report(mac=sent)))
    assert ServerReport.objects.get().mac == ServerStatus.objects.get().mac == stored


def test_an_ipv6_address_is_stored_in_its_canonical_form(api_client, customer):
    assert_ok(post_form(api_client, report(ip="2001:DB8:0:0::1")))
    assert ServerStatus.objects.get().ip == "2001:db8::1"


def test_a_mac_or_expiry_other_than_the_registrys_is_stored_and_flagged(api_client, customer, caplog):
    assert_ok(post_form(api_client, report(mac="aa:bb:cc:dd:ee:ff", timeout="2030-01-01")))

    status = ServerStatus.objects.select_related("customer").get()
    assert (status.mac, status.timeout) == ("AA:BB:CC:DD:EE:FF", datetime.date(2030, 1, 1))
    assert status.mac_mismatch
    assert status.timeout_mismatch
    assert "AA:BB:CC:DD:EE:FF" in caplog.text
    assert "2030-01-01" in caplog.text


def test_the_mismatch_selector_flags_what_the_status_properties_flag(make_customer):
    def reporting(code, *, mac="", timeout=None, reported_mac="", reported_timeout=None):
        customer = make_customer(code=code, mac=mac, timeout=timeout)
        server_report_commit(code=code, mac=reported_mac, timeout=reported_timeout)
        return customer

    day, other_day = datetime.date(2016, 9, 21), datetime.date(2030, 1, 1)
    reporting("0000001", mac="56:E8:F6:23:EF", reported_mac="56:E8:F6:23:EF", timeout=day, reported_timeout=day)
    reporting("0000002", mac="56:E8:F6:23:EF", reported_mac="AA:E8:F6:23:EF")
    reporting("0000003", timeout=day, reported_timeout=other_day)
    reporting("0000004", mac="56:E8:F6:23:EF", reported_mac="")  # nothing reported: nothing to compare
    reporting("0000005", mac="", reported_mac="AA:E8:F6:23:EF")  # no licensed MAC: nothing to compare
    reporting("0000006", timeout=None, reported_timeout=other_day)
    make_customer(code="0000007", mac="56:E8:F6:23:EF")  # never reported
    customer_remove(customer=reporting("0000008", mac="56:E8:F6:23:EF", reported_mac="AA:E8:F6:23:EF"))

    flagged = {c.code: (c.mac_mismatch, c.timeout_mismatch) for c in customers_with_mismatch()}
    assert flagged == {"0000002": (True, False), "0000003": (False, True)}
    for customer in customers_with_mismatch():
        assert (customer.server_status.mac_mismatch, customer.server_status.timeout_mismatch) == flagged[customer.code]


def test_editing_the_registry_clears_the_mismatch(customer):
    server_report_commit(code="0513001", mac="AA:E8:F6:23:EF")
    assert customers_with_mismatch().exists()

    customer_update(customer=customer, data={"mac": "AA:E8:F6:23:EF"})
    assert not customers_with_mismatch().exists()


def test_an_unknown_code_is_a_404_and_the_sighting_is_recorded(api_client, customer):
    response = post_form(api_client, report(code="0999999", count="7"), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert list(response.json()["errors"]) == ["code"]
    assert not ServerReport.objects.exists()
    sighting = UnregisteredServer.objects.get()
    assert (sighting.code, sighting.name, sighting.mac, sighting.ip) == (
        "0999999",
        "江苏中威科技",
        "56:E8:F6:23:EF",
        "192.168.0.7",
    )
    assert (sighting.count, sighting.reports, sighting.sender_address) == (7, 1, "203.0.113.9")
    assert sighting.first_seen_at == sighting.last_seen_at

    post_form(api_client, report(code="0999999", count="8", name="改名"))
    sighting.refresh_from_db()
    assert (sighting.count, sighting.name, sighting.reports) == (8, "改名", 2)
    assert sighting.last_seen_at > sighting.first_seen_at


def test_unregistered_sightings_are_bounded(api_client, customer, settings, caplog):
    settings.TELEMETRY_MAX_UNREGISTERED = 2
    for code in ("0900001", "0900002", "0900003", "0900001"):
        assert post_form(api_client, report(code=code)).status_code == HTTPStatus.NOT_FOUND

    assert sorted(UnregisteredServer.objects.values_list("code", "reports")) == [("0900001", 2), ("0900002", 1)]
    assert "0900003" in caplog.text


def test_a_removed_customer_is_refused_with_a_403_naming_code(api_client, customer):
    customer_remove(customer=customer)
    response = post_form(api_client, report())

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert list(response.json()["errors"]) == ["code"]
    assert not ServerReport.objects.exists()
    assert not UnregisteredServer.objects.exists()


def test_the_sender_address_honours_num_proxies(api_client, customer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    forwarded = "198.51.100.1, 203.0.113.7"

    assert_ok(post_form(api_client, report(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded))
    assert ServerStatus.objects.get().sender_address == "203.0.113.7"


def test_the_sender_address_ignores_x_forwarded_for_without_proxies(api_client, customer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}

    assert_ok(post_form(api_client, report(), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1"))
    assert ServerStatus.objects.get().sender_address == "10.0.0.2"


def test_a_head_request_stores_nothing(api_client, customer):
    response = api_client.head(URL, report())

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not ServerReport.objects.exists()
