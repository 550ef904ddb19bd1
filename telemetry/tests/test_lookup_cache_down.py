"""Redis down: the lookup answers from the database, unthrottled, and the commits go through unthrottled."""

import json
import logging
import socket
import time
import urllib.parse
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from telemetry.models import ImUser, ServerStatus
from telemetry.throttles import cache_outage

pytestmark = pytest.mark.django_db

LOOKUP = "/api/customer/info"
CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused at once
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
BACKENDS = {
    "django": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED_PORT, "OPTIONS": TIMEOUTS},
    "production": {  # the backend and near cache of settings.py
        "BACKEND": "zwadmin.cache.RedisCache",
        "LOCATION": CLOSED_PORT,
        "OPTIONS": TIMEOUTS,
        "NEAR_CACHE": {"PREFIXES": ["customer-info:", "throttle_lookup_unknown_"], "MAX_AGE": 30},
    },
}


@pytest.fixture(autouse=True)
def _fresh_outage_state():
    """The circuit breaker is per process: no test may leave it open for the next."""
    cache_outage.failed_at = None
    yield
    cache_outage.failed_at = None


@pytest.fixture(params=list(BACKENDS))
def redis_down(request):
    with override_settings(CACHES={"default": BACKENDS[request.param]}):
        yield


def test_a_known_code_is_answered_from_the_database(client, jiangsu, redis_down):
    response = client.get(LOOKUP, {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "code": "0513001",
        "name": "江苏中威科技",
        "tcphost": "61.155.85.77",
        "tcpport": 10003,
        "webhost": "61.155.85.77",
        "webport": 10001,
        "filehost": "61.155.85.77",
        "fileport": 10004,
        "timeout": "2016-09-21",
    }


@pytest.mark.parametrize("code", ["0999999", "abc"])
def test_an_unknown_code_is_still_a_404(client, jiangsu, redis_down, code):
    response = client.get(LOOKUP, {"code": code})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "code" in response.json()["errors"]


def test_post_and_a_missing_code_behave_as_usual(client, jiangsu, redis_down):
    assert client.post(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK
    assert client.get(LOOKUP).status_code == HTTPStatus.BAD_REQUEST


def test_the_outage_is_logged_once(client, jiangsu, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="telemetry.throttles"):
        for _ in range(5):
            assert client.get(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK
            assert client.get(LOOKUP, {"code": "0999999"}).status_code == HTTPStatus.NOT_FOUND

    warnings = [record for record in caplog.records if "cache unavailable" in record.getMessage()]
    assert len(warnings) == 1


def test_the_cache_is_used_again_once_redis_answers(client, jiangsu, monkeypatch, caplog):
    monkeypatch.setattr(cache_outage, "RETRY_AFTER", 0.0)
    with override_settings(CACHES={"default": BACKENDS["django"]}):
        assert client.get(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK
    assert cache_outage.failed_at is not None

    with caplog.at_level(logging.WARNING, logger="telemetry.throttles"):
        assert client.get(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK

    assert cache_outage.failed_at is None
    assert "cache available again" in caplog.text
    if settings.LOOKUP_CACHE:
        assert cache.get("customer-info:v1:0513001") is not None  # cached again


def test_commits_go_through_unthrottled(client, jiangsu, redis_down):
    assert client.get("/api/server/commit", {"code": "0513001"}).status_code == HTTPStatus.OK
    records = [{"code": "0513001", "uuid": "u-1", "nickname": "", **dict.fromkeys(ImUser.FIGURES, 1)}]
    body = urllib.parse.urlencode({"data": json.dumps(records)})
    response = client.generic("POST", "/api/user/commit", body, content_type="application/x-www-form-urlencoded")

    assert response.json() == {"status": "ok", "accepted": 1, "rejected": []}
    assert ServerStatus.objects.filter(customer=jiangsu).exists()


def test_a_hung_redis_costs_one_timeout_not_one_per_lookup(client, jiangsu):
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        hung = {**BACKENDS["django"], "LOCATION": f"redis://127.0.0.1:{port}/0"}
        with override_settings(CACHES={"default": hung}):
            started = time.monotonic()
            assert client.get(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK
            first = time.monotonic() - started

            started = time.monotonic()
            for _ in range(10):
                assert client.get(LOOKUP, {"code": "0513001"}).status_code == HTTPStatus.OK
            next_ten = time.monotonic() - started

    assert first >= TIMEOUTS["socket_timeout"]  # it did wait for Redis once
    assert next_ten < TIMEOUTS["socket_timeout"]  # and then answered from the database at once


def test_an_edit_saved_while_redis_is_down_still_saves(jiangsu, redis_down, django_capture_on_commit_callbacks):
    from customers.services import customer_update

    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=jiangsu, data={"name": "中威通讯"})

    jiangsu.refresh_from_db()
    assert jiangsu.name == "中威通讯"
