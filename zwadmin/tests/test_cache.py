"""The Redis cache backend's near cache (``zwadmin/cache.py``): copies served from the process, never stale.

Two backend instances stand for two processes (each has its own copies and its own subscription).
A value changed in Redis *behind the backend's back* (a raw ``SET``) shows whether a read was served
from the copy or from Redis.
"""

import time
import uuid

import pytest
import redis
from django.conf import settings

from zwadmin.cache import RedisCache

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis)"),
]


@pytest.fixture
def prefix():
    return f"test-near-{uuid.uuid4().hex[:8]}"


def backend(prefix: str) -> RedisCache:
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": prefix, "NEAR_CACHE": {"PREFIXES": ["m:"]}})


def behind_its_back(cache: RedisCache, key: str, value) -> None:
    raw = redis.Redis.from_url(settings.REDIS_URL)
    raw.set(cache.make_key(key), cache._cache._serializer.dumps(value))
    raw.close()


def test_a_mirrored_key_is_read_from_redis_once_then_from_the_process(prefix):
    cache = backend(prefix)
    cache.set("m:code", b"answer")
    assert cache.get("m:code") == b"answer"

    behind_its_back(cache, "m:code", b"changed unannounced")

    assert cache.get("m:code") == b"answer"
    assert cache.get_many(["m:code"]) == {"m:code": b"answer"}


def test_a_write_through_any_process_is_seen_by_every_process_at_its_next_read(prefix):
    reader, writer = backend(prefix), backend(prefix)
    writer.set("m:code", b"old")
    assert reader.get("m:code") == b"old"
    assert reader.get("m:absent") is None  # an absent key is mirrored too

    writer.set("m:code", b"new")
    writer.add("m:absent", b"now there")

    assert reader.get("m:code") == b"new"
    assert reader.get("m:absent") == b"now there"

    writer.delete("m:code")
    assert reader.get("m:code") is None

    writer.set_many({"m:code": b"again"})
    assert reader.get("m:code") == b"again"

    writer.clear()
    assert reader.get("m:code") is None


def test_other_keys_are_not_mirrored(prefix):
    cache = backend(prefix)
    cache.set("plain", 1)
    assert cache.get("plain") == 1

    behind_its_back(cache, "plain", 2)

    assert cache.get("plain") == 2


def test_copies_are_not_served_once_the_subscription_is_lost(prefix):
    cache = backend(prefix)
    cache.set("m:code", b"answer")
    assert cache.get("m:code") == b"answer"
    host, port = cache._near._pubsub.connection._sock.getsockname()[:2]  # this cache's subscription only
    raw = redis.Redis.from_url(settings.REDIS_URL)
    raw.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")
    raw.close()
    time.sleep(0.1)

    behind_its_back(cache, "m:code", b"read from Redis")

    assert cache.get("m:code") == b"read from Redis"


def test_a_copy_is_served_for_at_most_max_age(prefix):
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": prefix, "NEAR_CACHE": {"PREFIXES": ["m:"], "MAX_AGE": 0.2}})
    cache.set("m:code", b"answer")
    assert cache.get("m:code") == b"answer"
    behind_its_back(cache, "m:code", b"unannounced")

    time.sleep(0.3)

    assert cache.get("m:code") == b"unannounced"


def test_a_list_handed_out_is_a_copy(prefix):
    cache = backend(prefix)
    cache.set("m:history", [3.0, 2.0, 1.0])
    cache.get("m:history").pop()

    assert cache.get("m:history") == [3.0, 2.0, 1.0]
