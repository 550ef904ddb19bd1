"""The refresh a registry write owes Redis is recorded with the write and applied later if Redis missed it.

The end-to-end version, with a Redis paused and stopped under two app nodes, is tests/test_faults_storage.py.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from customers import lookup_cache
from customers.models import LookupRefresh
from customers.services import customer_update

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.LOOKUP_CACHE, reason="without Redis no answer is kept (set REDIS_URL)"),
]

UNREACHABLE = {
    "default": {
        "BACKEND": "zwadmin.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture(autouse=True)
def _fresh_checks():
    lookup_cache.note_cache_failure()
    yield
    lookup_cache.note_cache_failure()


def kept_host(code: str) -> bytes | None:
    return cache.get(lookup_cache.cache_key(code))


def test_a_refresh_redis_confirmed_is_marked_applied(jiangsu, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=jiangsu, data={"tcphost": "im.zwtx.cn"})

    assert b"im.zwtx.cn" in kept_host("0513001")
    assert list(LookupRefresh.objects.filter(code="0513001").values_list("applied_at", flat=True))[-1] is not None


def test_a_refresh_redis_missed_stays_pending_and_is_applied_before_redis_answers_again(
    jiangsu, django_capture_on_commit_callbacks
):
    assert lookup_cache.connection_info_json(code="0513001")  # the old answer, kept in Redis
    LookupRefresh.objects.all().delete()

    with override_settings(CACHES=UNREACHABLE), django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=jiangsu, data={"tcphost": "im.zwtx.cn"})  # saved; Redis never told

    assert b"61.155.85.77" in kept_host("0513001")  # Redis still holds the old answer
    assert LookupRefresh.objects.filter(code="0513001", applied_at=None).count() == 1

    lookup_cache.ensure_fresh()  # what every lookup does before it reads Redis

    assert b"im.zwtx.cn" in kept_host("0513001")
    assert not LookupRefresh.objects.filter(applied_at=None).exists()


def test_rows_are_deleted_once_every_process_has_had_time_to_see_them(jiangsu, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=jiangsu, data={"tcphost": "im.zwtx.cn"})
    LookupRefresh.objects.update(applied_at=lookup_cache.timezone.now() - lookup_cache.KEEP * 2)

    lookup_cache.ensure_fresh()

    assert not LookupRefresh.objects.exists()


def test_a_check_is_valid_for_less_than_the_redis_timeout():
    timeout = settings.CACHES["default"]["OPTIONS"]["socket_timeout"]
    assert lookup_cache.CHECK_EVERY < timeout
    assert lookup_cache.CHECK_EVERY < settings.CACHES["default"]["OPTIONS"]["socket_connect_timeout"]
