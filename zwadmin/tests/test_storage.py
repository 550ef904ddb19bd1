"""The embedded default keeps no state in a process: the cache is a table, and check --deploy says otherwise."""

from django.core.cache import caches
from django.test import override_settings

from zwadmin.storage import check_shared_cache

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def test_a_cache_in_process_memory_is_a_deployment_warning():
    with override_settings(CACHES=LOCMEM):
        warnings = check_shared_cache(None)

    assert [warning.id for warning in warnings] == ["zwadmin.W002"]
    assert "REDIS_URL" in warnings[0].msg


def test_the_configured_cache_is_shared():
    assert check_shared_cache(None) == []
    assert type(caches["default"]).__name__ in {"DatabaseCache", "RedisCache"}
