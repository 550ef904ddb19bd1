"""Hostile bodies sent to the production server (ISSUE 10): each gets a 4xx or the right 200, stores what it
should and nothing else, gets a short answer, and costs the worker that answers it less than 300 MB.

One node of one worker, so that the worker whose peak memory (``VmHWM``, reset before each body) is read is the
one that answered. The bodies and the way they are sent are bench/faults.py's, which measures the same bodies'
time and memory for ``make bench``.
"""

from contextlib import ExitStack
from http import HTTPStatus

import orjson
import pytest
from rest_framework.authtoken.models import Token

from bench.faults import COMMITS, FORM, JSON, Hostile, catalogue, junk_records, measure, user
from customers.models import Customer
from telemetry.models import ImGroup, ImUser, ServerReport
from tests.nodes import needs_postgresql, start_node

pytestmark = needs_postgresql

MEMORY_LIMIT_MB = 300
SHORT_ANSWER = 64 * 1024  # bytes: an error body, or a batch's answer with its first rejections listed


@pytest.fixture(scope="module")
def node(django_db_setup):
    with ExitStack() as stack:
        # No commit rate: a test here may commit the same code many times.
        node = start_node(stack, workers=1, env={"ZWADMIN_COMMIT_RATE": ""})
        (node.worker,) = node.worker_pids()
        yield node


@pytest.fixture
def customer(transactional_db, make_customer):
    return make_customer(code="0513001")


def send(node, hostile: Hostile) -> dict:
    result = measure(node.port, node.worker, hostile)
    assert result["peak_rss_mb"] < MEMORY_LIMIT_MB, result
    assert result["answer_bytes"] < SHORT_ANSWER, result
    result["json"] = orjson.loads(result["answer_body"])
    return result


def by_name(name: str) -> Hostile:
    (hostile,) = (hostile for hostile in catalogue() if hostile.name.startswith(name))
    return hostile


def assert_nothing_stored():
    assert (ImUser.objects.count(), ImGroup.objects.count(), ServerReport.objects.count()) == (0, 0, 0)


@pytest.mark.once
def test_30_mb_of_zeros_is_refused_as_too_many_values_before_it_is_parsed(node, customer):
    result = send(node, by_name("[0,0,…] 30 MB"))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "50000 records" in result["json"]["errors"]["data"][0]
    assert_nothing_stored()


def test_2_mb_of_empty_records_is_refused_as_too_many_records(node, customer):
    result = send(node, by_name("2 MB of junk records"))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert list(result["json"]["errors"]) == ["data"]
    assert_nothing_stored()


def test_a_batch_over_the_record_limit_is_refused_whole(node, customer):
    result = send(node, Hostile("50,001 records", "/api/user/commit", orjson.dumps([0] * 50_001), JSON))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert list(result["json"]["errors"]) == ["data"]


@pytest.mark.once
def test_50_000_junk_records_get_the_first_100_rejections_and_a_count_of_the_rest(node, customer):
    body = junk_records(49_999)[:-1] + b"," + orjson.dumps(user(7)) + b"]"  # one good record, the last

    result = send(node, Hostile("junk", "/api/user/commit", body, JSON, refused=False))

    assert result["status"] == HTTPStatus.OK
    answer = result["json"]
    assert answer["accepted"] == 1
    assert [entry["index"] for entry in answer["rejected"]] == list(range(100))
    assert answer["rejected_unlisted"] == 49_999 - 100
    assert len(answer["rejected"][0]["errors"]) == 9
    assert list(ImUser.objects.values_list("uuid", flat=True)) == ["u7"]


@pytest.mark.parametrize("path", [*COMMITS, "/api/customer/info"])
def test_100_000_open_brackets_are_refused_by_every_anonymous_endpoint(node, customer, path):
    result = send(node, Hostile("deep", path, b"[" * 100_000, JSON))

    assert result["status"] in (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE), result
    assert set(result["json"]) == {"detail", "errors"}
    assert_nothing_stored()


@pytest.mark.parametrize("path", COMMITS[:2])
def test_100_000_open_brackets_in_a_form_field_are_a_400_naming_data(node, customer, path):
    result = send(node, Hostile("deep form", path, b"data=" + b"%5B" * 100_000, FORM))

    assert result["status"] == HTTPStatus.BAD_REQUEST, result
    assert "levels deep" in result["json"]["errors"]["data"][0]


def test_100_000_open_brackets_to_customer_add_are_refused_for_staff(node, customer, admin_user):
    token = Token.objects.create(user=admin_user)

    headers = {"Authorization": f"Token {token.key}", **JSON}

    result = send(node, Hostile("deep", "/customer/add", b"[" * 100_000, headers))

    # More arrays than a form may have fields (DATA_UPLOAD_MAX_NUMBER_FIELDS): refused by its count, unparsed.
    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, result
    assert result["json"] == {"detail": "The request is too large.", "errors": {}}
    assert not Customer.objects.exclude(pk=customer.pk).exists()


def test_json_nested_too_deep_for_the_parser_is_a_400_for_staff(node, customer, admin_user):
    token = Token.objects.create(user=admin_user)
    headers = {"Authorization": f"Token {token.key}", **JSON}

    result = send(node, Hostile("deep", "/customer/add", b"[" * 600 + b"]" * 600, headers))

    assert result["status"] == HTTPStatus.BAD_REQUEST, result
    assert "levels deep" in result["json"]["detail"]


@pytest.mark.once
def test_a_30_mb_lookup_body_is_refused_by_its_size(node, customer):
    result = send(node, by_name("30 MB JSON to POST /api/customer/info"))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert result["seconds"] < 5  # generous: the bench holds the target (well under a second)


def test_a_small_lookup_body_still_answers(node, customer):
    result = send(node, Hostile("lookup", "/api/customer/info", b'{"code": "0513001"}', JSON, refused=False))

    assert (result["status"], result["json"]["code"]) == (HTTPStatus.OK, "0513001")


def test_a_5000_digit_integer_rejects_only_its_own_record(node, customer):
    result = send(node, by_name("batch whose 2nd record"))

    assert result["status"] == HTTPStatus.OK, result
    assert result["json"]["accepted"] == 1
    assert result["json"]["rejected"] == [
        {"index": 1, "errors": {"fmsgs": ["Ensure this number is at most 9223372036854775807."]}}
    ]
    assert list(ImUser.objects.values_list("uuid", "fmsgs")) == [("u0", 1)]


def test_a_chunked_body_without_content_length_is_read_and_stored(node, customer):
    result = send(node, by_name("chunked, no Content-Length"))

    assert result["status"] == HTTPStatus.OK, result
    assert (result["json"]["accepted"], result["json"]["rejected"]) == (1, [])
    assert list(ImUser.objects.values_list("uuid", flat=True)) == ["u0"]


def test_a_chunked_lookup_and_server_report_are_read(node, customer):
    lookup = send(node, Hostile("c", "/api/customer/info", b"code=0513001", FORM, chunked=True, refused=False))
    report = send(node, Hostile("c", "/api/server/commit", b"code=0513001&count=7", FORM, chunked=True))

    assert (lookup["status"], lookup["json"]["code"]) == (HTTPStatus.OK, "0513001")
    assert report["status"] == HTTPStatus.OK, report
    assert list(ServerReport.objects.values_list("count", flat=True)) == [7]


@pytest.mark.once
def test_a_chunked_body_over_the_limit_is_a_413(node, customer):
    result = send(node, by_name("chunked, 40 MB"))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert_nothing_stored()


@pytest.mark.once
def test_a_form_of_30_mb_of_percent_signs_is_a_400(node, customer):
    result = send(node, by_name("form of 30 MB of '%'"))

    assert result["status"] == HTTPStatus.BAD_REQUEST
    assert_nothing_stored()


def test_a_form_of_millions_of_fields_is_a_413(node, customer):
    result = send(node, by_name("form of 8 million fields"))

    assert result["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert_nothing_stored()


def test_a_few_literal_percent_signs_are_kept(node, customer):
    body = b"data=" + orjson.dumps([user(0, nickname="100%")])

    result = send(node, Hostile("percent", "/api/user/commit", body, FORM))

    assert result["json"]["accepted"] == 1, result
    assert ImUser.objects.get().nickname == "100%"


@pytest.mark.once
def test_the_largest_batch_the_limits_admit_stays_under_the_memory_limit(node, customer):
    result = send(node, by_name("50,000 users padded to 30 MB"))

    assert result["status"] == HTTPStatus.OK, result
    assert ImUser.objects.count() == 50_000
