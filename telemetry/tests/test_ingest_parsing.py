"""The raw decoding (telemetry/ingest_parsing.py) and the record rules (telemetry/records.py), without HTTP."""

import datetime
import urllib.parse

import pytest
from rest_framework.test import APIRequestFactory

from telemetry.ingest_parsing import (
    InvalidJSON,
    UndecodableText,
    client_address,
    decode_text,
    load_json,
    parse_urlencoded,
    percent_decode,
)
from telemetry.validators import CHINA_STANDARD_TIME, FieldError, clean_count, clean_date, clean_datetime, text


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"plain",
        b"a+b",
        b"%5B%7B%22code%22%3A+%220513001%22%7D%5D",
        b"100%",
        b"%zz%4",
        b"back\\slash%5C%5cx41",
        "龚超".encode("gb18030"),
        urllib.parse.quote_plus("龚超 €".encode("gb18030")).encode(),
        bytes(range(256)),
    ],
)
def test_percent_decoding_matches_the_standard_library(raw):
    assert percent_decode(raw) == urllib.parse.unquote_to_bytes(raw.replace(b"+", b" "))


def test_one_encoding_is_chosen_for_the_whole_source():
    gb = "龚超".encode("gb18030")
    assert decode_text(b"ascii", gb) == ["ascii", "龚超"]
    assert decode_text("龚超".encode(), b"x") == ["龚超", "x"]
    with pytest.raises(UndecodableText):
        decode_text(b"ok", b"\xff\xfe")


def test_a_query_string_keeps_the_last_of_repeated_names():
    assert parse_urlencoded(b"a=1&b=&a=2&&c") == {"a": "2", "b": "", "c": ""}


def test_json_beyond_orjson_falls_back_to_the_standard_library():
    assert load_json(b"[1e400]") == [float("inf")]
    assert load_json("[18446744073709551617]")[0] > 2**63 - 1  # orjson: a float; either way beyond a count
    assert load_json('["龚超"]'.encode("gb18030")) == ["龚超"]
    with pytest.raises(InvalidJSON):
        load_json(b"[")


@pytest.mark.parametrize(
    ("meta", "num_proxies", "address"),
    [
        ({"REMOTE_ADDR": "10.0.0.2"}, None, "10.0.0.2"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.1"}, None, "10.0.0.2"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.1"}, 1, "10.0.0.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.1"}, 2, "198.51.100.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, 5, "198.51.100.1"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, 0, "10.0.0.2"),
        ({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "unknown"}, 1, "10.0.0.2"),
        ({"REMOTE_ADDR": "2001:DB8::0:1"}, None, "2001:db8::1"),
        ({"REMOTE_ADDR": ""}, None, None),
    ],
)
def test_the_client_address_believes_x_forwarded_for_only_behind_num_proxies(settings, meta, num_proxies, address):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    request = APIRequestFactory().get("/api/server/commit", **meta)

    assert client_address(request) == address


@pytest.mark.parametrize(("value", "number"), [(0, 0), ("7", 7), (" 7\t", 7), (7.0, 7), ("0" * 40 + "1", 1)])
def test_counts(value, number):
    assert clean_count(value) == number


@pytest.mark.parametrize(
    "value", [True, -1, "-1", "+1", 2**63, "9" * 5000, 1.5, float("inf"), float("nan"), "", " ", "1_000", "٣", None]
)
def test_bad_counts(value):
    with pytest.raises(FieldError):
        clean_count(value)


def test_dates_and_times():
    assert clean_date("2016-09-21") == clean_date("2016/09/21") == datetime.date(2016, 9, 21)
    assert clean_date("2016-09-21 10:00:00") == datetime.date(2016, 9, 21)
    assert clean_date(" ") is None
    moment = clean_datetime("2016-09-21 10:00:00")
    assert moment == datetime.datetime(2016, 9, 21, 2, tzinfo=datetime.UTC)
    assert moment.tzinfo == CHINA_STANDARD_TIME
    for bad in ("2016-09-31", "2016-09/21", "0000-01-01", "２０１６-09-21", "2016-09-21 10:00"):
        with pytest.raises(FieldError):
            clean_date(bad)


def test_text():
    clean = text(5)
    assert clean("龚超") == "龚超"
    assert clean(None) == ""
    assert clean(" a ") == " a "
    for bad in ("123456", "a\x00", "\ud800", "\ufffd", 1):
        with pytest.raises(FieldError):
            clean(bad)
    key = text(5, key=True, integers=True)
    assert key(" a ") == "a"
    assert key(36) == "36"
    for bad in ("", " ", None, True):
        with pytest.raises(FieldError):
            key(bad)
