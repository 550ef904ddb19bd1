"""Django's Redis cache backend with two additions for the client lookup, the hottest path of the product.

1. **One redis-py client per connection pool.** Django's ``RedisCacheClient.get_client`` builds a new
   ``redis.Redis`` for every cache call, and redis-py (≥ 5) fills each new client's table of ~170 response
   callbacks in a case-insensitive dict: more CPU than the Redis round trip itself. A ``redis.Redis`` is
   safe to share between threads (each command borrows a connection from the pool), so one is kept.

2. **A near cache for chosen key prefixes** (``CACHES["default"]["NEAR_CACHE"]``): each process keeps the
   values it read of those keys, absent ones included, so a lookup that hits asks Redis nothing. It
   stays exact because every write of such a key through this backend (``set``, ``add``, ``set_many``,
   ``delete``, ``incr``, ``clear`` …) is published on a Redis channel once Redis has it, and every
   process subscribed to that channel drops its copy before it answers its next read: before each read
   it drains, without waiting, what its subscription has received. That is how Redis's own client-side
   caching works (which needs Redis ≥ 7.4, redis-py's implementation). Guards:

   - a process serves copies only while its subscription is known to be alive: it pings through it every
     few seconds and stops serving copies (and drops them all) if the answer does not come back in time,
     or on any error, until it has subscribed again;
   - a copy is served for at most ``MAX_AGE`` seconds (30), then read again from Redis: the bound on any
     write that did not come through this backend (another program writing the same keys);
   - subscribing again drops every copy, and so does a fork (gunicorn workers start empty).

   So an edit in the console is seen by the very next lookup on every worker of every node
   (``telemetry/tests/test_lookup_nodes.py``), and an address that has used up its unknown-code allowance
   is refused by every worker at once (its throttle key is mirrored too).
"""

import copy
import hashlib
import logging
import os
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)

_ABSENT = object()  # Redis had no value for the key: a copy of that answer too
_MISSING = object()  # no usable copy: ask Redis
_CLEAR_ALL = b"*"
_PING = "zwadmin-near-cache"


def _handout(value):
    """What a reader gets of a kept value: a list (a throttle's history) is changed in place by its reader."""
    return copy.copy(value) if isinstance(value, (list, dict, set)) else value


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class NearCache:
    """This process's copies of mirrored keys, dropped as the channel announces writes (see the module)."""

    PING_EVERY = 5.0  # seconds between liveness pings through the subscription
    PONG_WITHIN = 5.0  # a ping unanswered for this long: the subscription is presumed dead
    RETRY_AFTER = 2.0  # after a failure, serve no copies and do not try to subscribe again for this long

    def __init__(self, client_getter, channel: str, *, max_age: float, max_entries: int):
        self._client_getter = client_getter
        self.channel = channel
        self.max_age = max_age
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._pid = None
        self._pubsub = None
        self._entries: dict[str, tuple[float, object]] = {}
        self._next_ping = 0.0
        self._pong_deadline: float | None = None
        self._retry_at = 0.0
        self._generation = 0  # changes whenever the subscription is lost or renewed, or copies are dropped
        self._epoch = 0  # changes whenever the subscription is lost or renewed (see epoch())

    # -- reads ---------------------------------------------------------------------------------------------

    def get_many(self, keys: list[str]) -> list:
        """For each key its copy (a value, or ``_ABSENT``), or ``_MISSING`` when Redis must be asked."""
        with self._lock:
            if not self._sync():
                return [_MISSING] * len(keys)
            oldest = time.monotonic() - self.max_age
            copies = []
            for key in keys:
                entry = self._entries.get(key)
                copies.append(_MISSING if entry is None or entry[0] < oldest else entry[1])
            return copies

    def begin_read(self) -> int | None:
        """Call before reading Redis for keys to :meth:`keep`; None: do not keep what you read."""
        with self._lock:
            return self._generation if self._sync() else None

    def keep(self, values: dict, generation: int) -> None:
        """Keep copies of ``{key: value or _ABSENT}`` read from Redis after :meth:`begin_read` said ``generation``.

        An announcement of a write made after the read is drained at the next :meth:`get` and drops the
        copy, so a copy can never outlive a write it did not see. A subscription lost (or renewed) since
        ``begin_read`` may have missed announcements: then nothing is kept.
        """
        with self._lock:
            if generation != self._generation or self._pubsub is None or self._pid != os.getpid():
                return
            if len(self._entries) + len(values) > self.max_entries:
                self._entries.clear()
            now = time.monotonic()
            for key, value in values.items():
                self._entries[key] = (now, value)

    # -- writes --------------------------------------------------------------------------------------------

    def announce(self, keys: list[str] | None) -> None:
        """Tell every process (this one first) that ``keys`` changed in Redis; ``None``: everything did."""
        with self._lock:
            if keys is None:
                self._entries.clear()
            else:
                for key in keys:
                    self._entries.pop(key, None)
        if keys is None or any("\n" in key for key in keys):
            message = _CLEAR_ALL
        else:
            message = "\n".join(keys).encode()
        try:
            self._client_getter().publish(self.channel, message)
        except Exception:
            # The write itself went through: other processes would keep stale copies, so every process's
            # subscription will be presumed dead at its next ping. Log loudly; the copies expire anyway.
            logger.exception("near cache: could not announce a write of %s", keys or "everything")

    def epoch(self) -> int | None:
        """The subscription's generation if copies may be served now, else None (drains announcements first).

        It changes whenever the subscription was lost or renewed (and in a forked child): a caller that
        remembers it learns whether Redis may have been unreachable, or restarted, since.
        """
        with self._lock:
            return self._epoch if self._sync() else None

    def drop_all(self) -> None:
        """Drop every copy of this process, and any copy being read right now (its :meth:`keep` is ignored)."""
        with self._lock:
            self._entries.clear()
            self._generation += 1

    # -- the subscription ----------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._generation += 1
        self._epoch += 1
        pubsub, self._pubsub = self._pubsub, None
        self._entries.clear()
        self._pong_deadline = None
        if pubsub is not None and self._pid == os.getpid():
            try:
                pubsub.close()
            except Exception:  # already broken: nothing to close cleanly
                pass

    def _sync(self) -> bool:
        """Drain what the subscription received; False when copies may not be served now."""
        now = time.monotonic()
        if self._pid != os.getpid():  # a forked child: the parent's subscription and copies are not ours
            self._pubsub = None
            self._entries.clear()
            self._pong_deadline = None
            self._pid = os.getpid()
            self._generation += 1
            self._epoch += 1
        if self._pubsub is None:
            if now < self._retry_at:
                return False
            try:
                pubsub = self._client_getter().pubsub()
                pubsub.subscribe(self.channel)
                # Wait for Redis's confirmation: only then is every later write sure to be announced to us.
                deadline = now + 2.0
                while True:
                    message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
                    if message and message["type"] == "subscribe":
                        break
                    if time.monotonic() >= deadline:
                        raise TimeoutError("no subscription confirmation")
            except Exception:
                logger.warning("near cache: cannot subscribe to %s; reading Redis every time", self.channel)
                self._retry_at = now + self.RETRY_AFTER
                return False
            self._pubsub = pubsub
            self._generation += 1
            self._epoch += 1
            self._entries.clear()
            self._next_ping = now + self.PING_EVERY
        try:
            # Nothing received, the usual case: one non-blocking read of the socket, not redis-py's full path.
            connection = self._pubsub.connection
            pending = connection is None or connection.can_read(timeout=0)
            while pending:
                message = self._pubsub.get_message(timeout=0)
                if message is None:
                    break
                kind = message["type"]
                if kind == "message":
                    data = message["data"]
                    if data == _CLEAR_ALL:
                        self._entries.clear()
                    else:
                        for key in data.decode().split("\n"):
                            self._entries.pop(key, None)
                elif kind == "pong":
                    self._pong_deadline = None
            if self._pong_deadline is not None and now > self._pong_deadline:
                raise TimeoutError("the subscription did not answer a ping")
            if now >= self._next_ping and self._pong_deadline is None:
                self._pubsub.ping(_PING)
                self._pong_deadline = now + self.PONG_WITHIN
                self._next_ping = now + self.PING_EVERY
        except Exception:
            logger.warning("near cache: subscription to %s lost; reading Redis every time", self.channel)
            self._reset()
            self._retry_at = now + self.RETRY_AFTER
            return False
        return True


class RedisCache(django_redis.RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with a reused client and an optional near cache.

    ``NEAR_CACHE = {"PREFIXES": [...], "MAX_AGE": 30, "MAX_ENTRIES": 10000}`` in the cache's settings
    mirrors the keys that start with one of ``PREFIXES`` (see the module).
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        near = params.get("NEAR_CACHE") or {}
        self._near_prefixes = tuple(near.get("PREFIXES", ()))
        self._near = None
        if self._near_prefixes:
            self._near = NearCache(
                lambda: self._cache.get_client(write=True),
                # Channels are server-wide, not per database: the name tells this cache's database and prefix
                # apart from others' (without spelling out the URL, which may hold a password).
                f"{self.key_prefix or 'django'}:near-cache:"
                + hashlib.blake2b(self._servers[0].encode(), digest_size=8).hexdigest(),
                max_age=float(near.get("MAX_AGE", 30)),
                max_entries=int(near.get("MAX_ENTRIES", 10_000)),
            )

    def near_cache_epoch(self) -> int | None:
        """See :meth:`NearCache.epoch`; 0 (never changes) without a near cache."""
        return self._near.epoch() if self._near is not None else 0

    def near_cache_drop(self) -> None:
        """Drop this process's near-cache copies (:meth:`NearCache.drop_all`)."""
        if self._near is not None:
            self._near.drop_all()

    def _mirrored(self, key) -> bool:
        return bool(self._near_prefixes) and isinstance(key, str) and key.startswith(self._near_prefixes)

    # -- reads ---------------------------------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        if not self._mirrored(key):
            return super().get(key, default, version)
        return self.get_many([key], version=version).get(key, default)

    def get_many(self, keys, version=None):
        keys = list(keys)
        near = [key for key in keys if self._mirrored(key)]
        if not near:
            return super().get_many(keys, version=version)
        # Mirrored keys are this project's own (no memcached-unsafe characters to warn about): not validated.
        made = {key: (self.make_key if key in near else self.make_and_validate_key)(key, version) for key in keys}
        kept_copies = dict(zip(near, self._near.get_many([made[key] for key in near]), strict=True))
        found, ask = {}, []
        for key in keys:
            kept = kept_copies.get(key, _MISSING)
            if kept is _MISSING:
                ask.append(key)
            elif kept is not _ABSENT:
                found[key] = _handout(kept)
        if ask:
            generation = self._near.begin_read()
            answers = self._cache.get_many([made[key] for key in ask])
            copies = {}
            for key in ask:
                value = answers.get(made[key], _ABSENT)
                if value is not _ABSENT:
                    found[key] = _handout(value) if key in near else value
                if generation is not None and key in near:
                    copies[made[key]] = value
            if copies:
                self._near.keep(copies, generation)
        return found

    # -- writes: announced for mirrored keys once Redis has them ------------------------------------------------

    def _announce(self, keys, version) -> None:
        mirrored = [self.make_and_validate_key(key, version=version) for key in keys if self._mirrored(key)]
        if mirrored:
            self._near.announce(mirrored)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        added = super().add(key, value, timeout, version)
        if added:
            self._announce([key], version)
        return added

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        super().set(key, value, timeout, version)
        self._announce([key], version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        result = super().set_many(data, timeout, version)
        self._announce(list(data), version)
        return result

    def delete(self, key, version=None):
        deleted = super().delete(key, version)
        self._announce([key], version)
        return deleted

    def delete_many(self, keys, version=None):
        keys = list(keys)
        super().delete_many(keys, version)
        self._announce(keys, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        touched = super().touch(key, timeout, version)
        self._announce([key], version)  # a timeout of 0 deletes the key
        return touched

    def incr(self, key, delta=1, version=None):
        value = super().incr(key, delta, version)
        self._announce([key], version)
        return value

    def clear(self):
        cleared = super().clear()
        if self._near is not None:
            self._near.announce(None)
        return cleared
