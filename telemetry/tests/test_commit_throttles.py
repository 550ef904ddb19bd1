"""Abuse limits on the commits (docs/protocol.md "Throttles"): per customer code, never per address; unknown codes."""

import json
import urllib.parse
from http import HTTPStatus

import pytest

from customers.services import customer_ingest_key_require, customer_ingest_key_rotate
from telemetry.models import ImUser, ServerReport, UnregisteredServer
from telemetry.throttles import CommitRateThrottle

pytestmark = pytest.mark.django_db

SERVER = "/api/server/commit"
USERS = "/api/user/commit"
LOOKUP = "/api/customer/info"


def user(code, uuid="u-1"):
    figures = {"onlinetime": 1, "andtimes": 2, "pctimes": 3, "iostimes": 4, "fmsgs": 5, "tmsgs": 6}
    return {"code": code, "uuid": uuid, "nickname": "龚超", **figures}


def post_batch(client, records, *, path=USERS, **extra):
    body = urllib.parse.urlencode({"data": json.dumps(records, ensure_ascii=False)})
    return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded", **extra)


def from_address(address):
    return {"REMOTE_ADDR": address}


@pytest.fixture
def rates(monkeypatch):
    """Set the commit rate and the unknown-code allowance for one test."""

    def set_rates(commit=None, unknown=None):
        if commit is not None:
            monkeypatch.setitem(CommitRateThrottle.THROTTLE_RATES, "commit", commit or None)
        if unknown is not None:
            monkeypatch.setitem(CommitRateThrottle.THROTTLE_RATES, "lookup_unknown", unknown)

    return set_rates


@pytest.fixture
def beijing(make_customer):
    return make_customer(code="0100001", name="北京")


def assert_throttled(response):
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS, response.content
    assert int(response["Retry-After"]) > 0
    assert set(response.json()) == {"detail", "errors"}


# --- per customer code ----------------------------------------------------------------------------------------


def test_a_code_over_its_commit_rate_gets_429_with_retry_after_and_nothing_is_stored(api_client, jiangsu, rates):
    rates(commit="2/hour")
    for _ in range(2):
        assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.OK

    assert_throttled(api_client.get(SERVER, {"code": jiangsu.code}))
    assert ServerReport.objects.count() == 2


def test_the_limit_is_per_code_not_per_address(api_client, jiangsu, beijing, rates):
    rates(commit="2/hour")
    nat = from_address("203.0.113.9")  # a whole company, or a hosting provider, behind one address
    for customer in (jiangsu, beijing):
        for _ in range(2):
            assert api_client.get(SERVER, {"code": customer.code}, **nat).status_code == HTTPStatus.OK

    # a new address does not reset the code's allowance either
    assert_throttled(api_client.get(SERVER, {"code": jiangsu.code}, **from_address("198.51.100.1")))


def test_each_endpoint_has_its_own_allowance(api_client, jiangsu, rates):
    rates(commit="1/hour")
    assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.OK

    assert post_batch(api_client, [user(jiangsu.code)]).json()["accepted"] == 1
    assert_throttled(post_batch(api_client, [user(jiangsu.code)]))


def test_a_batch_counts_once_per_code_whatever_its_size(api_client, jiangsu, rates):
    rates(commit="2/hour")
    batch = [user(jiangsu.code, f"u-{i}") for i in range(500)]

    assert post_batch(api_client, batch).json()["accepted"] == 500
    assert post_batch(api_client, batch).json()["accepted"] == 500
    assert_throttled(post_batch(api_client, batch))


def test_in_a_batch_of_several_customers_only_the_code_over_its_rate_is_rejected(api_client, jiangsu, beijing, rates):
    rates(commit="1/hour")
    assert post_batch(api_client, [user(jiangsu.code)]).status_code == HTTPStatus.OK

    response = post_batch(api_client, [user(jiangsu.code, "u-2"), user(beijing.code), user(jiangsu.code, "u-3")])

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["accepted"] == 1
    assert [(entry["index"], list(entry["errors"])) for entry in body["rejected"]] == [(0, ["code"]), (2, ["code"])]
    assert not ImUser.objects.filter(customer=jiangsu, uuid__in=["u-2", "u-3"]).exists()
    assert ImUser.objects.filter(customer=beijing).exists()


def test_a_batch_whose_every_code_is_over_its_rate_is_a_429(api_client, jiangsu, beijing, rates):
    rates(commit="1/hour")
    post_batch(api_client, [user(jiangsu.code), user(beijing.code)])

    assert_throttled(post_batch(api_client, [user(jiangsu.code, "u-2"), user(beijing.code, "u-2")]))
    assert not ImUser.objects.filter(uuid="u-2").exists()


def test_reports_refused_for_their_key_do_not_spend_the_customers_allowance(api_client, jiangsu, rates):
    rates(commit="2/hour")
    key = customer_ingest_key_rotate(customer=jiangsu)
    customer_ingest_key_require(customer=jiangsu, required=True)
    for _ in range(5):  # someone without the key
        assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.UNAUTHORIZED
        assert post_batch(api_client, [user(jiangsu.code)]).json()["rejected"][0]["errors"].keys() == {"key"}

    assert api_client.get(SERVER, {"code": jiangsu.code, "key": key}).status_code == HTTPStatus.OK
    assert post_batch(api_client, [user(jiangsu.code)], HTTP_AUTHORIZATION=f"Bearer {key}").json()["accepted"] == 1


def test_an_empty_rate_means_no_limit(api_client, jiangsu, rates):
    rates(commit="")
    for _ in range(5):
        assert api_client.get(SERVER, {"code": jiangsu.code}).status_code == HTTPStatus.OK


def test_the_default_rate_is_generous():
    throttle = CommitRateThrottle("server")
    assert throttle.num_requests / throttle.duration * 3600 >= 120  # a report every 30 seconds, every endpoint


# --- unknown codes: no faster enumeration than the lookup allows ------------------------------------------------


def test_commits_spend_the_lookups_allowance_of_distinct_unknown_codes(api_client, jiangsu, rates):
    rates(unknown="3/hour")
    for code in ("0999991", "0999992", "0999993"):
        assert api_client.get(SERVER, {"code": code}).status_code == HTTPStatus.NOT_FOUND

    assert_throttled(api_client.get(SERVER, {"code": "0999994"}))
    # Exhausted: every commit and every lookup of the address is refused, known codes included, so a 200
    # among the 429s tells nothing.
    assert_throttled(api_client.get(SERVER, {"code": jiangsu.code}))
    assert_throttled(post_batch(api_client, [user(jiangsu.code)]))
    assert_throttled(api_client.get(LOOKUP, {"code": jiangsu.code}))
    # another address is not affected
    assert api_client.get(SERVER, {"code": jiangsu.code}, **from_address("198.51.100.1")).status_code == HTTPStatus.OK


def test_the_lookup_and_the_commits_share_one_allowance(api_client, jiangsu, rates):
    rates(unknown="2/hour")
    assert api_client.get(LOOKUP, {"code": "0999991"}).status_code == HTTPStatus.NOT_FOUND
    assert api_client.get(SERVER, {"code": "0999992"}).status_code == HTTPStatus.NOT_FOUND

    assert_throttled(api_client.get(LOOKUP, {"code": "0999993"}))


def test_a_server_retrying_its_one_mistyped_code_is_never_refused(api_client, rates):
    rates(unknown="2/hour")
    for _ in range(10):
        assert api_client.get(SERVER, {"code": "0999999"}).status_code == HTTPStatus.NOT_FOUND
        assert post_batch(api_client, [user("0999999")]).status_code == HTTPStatus.OK
    assert UnregisteredServer.objects.get().reports == 20


def test_a_batch_of_made_up_codes_is_refused_whole_and_reveals_nothing(api_client, jiangsu, rates):
    rates(unknown="30/hour")
    probes = [user(f"{code:07d}") for code in range(1, 101)] + [user(jiangsu.code)]

    assert_throttled(post_batch(api_client, probes))
    assert not ImUser.objects.exists()
    assert not UnregisteredServer.objects.exists()
    assert_throttled(api_client.get(LOOKUP, {"code": jiangsu.code}))  # and the address has used its allowance


def test_a_batch_within_the_allowance_records_its_unknown_codes(api_client, jiangsu, rates):
    rates(unknown="3/hour")
    response = post_batch(api_client, [user("0999991"), user("0999992"), user(jiangsu.code)])

    assert response.json()["accepted"] == 1
    assert UnregisteredServer.objects.count() == 2
