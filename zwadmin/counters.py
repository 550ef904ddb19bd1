"""Atomic fixed-window counters shared by every process and node: what the throttles count with.

Two operations, each one atomic step, so concurrent requests on any number of workers and nodes can never
let more through than the limit:

- :meth:`Counters.increment`: add one to each of several counters and return their new values;
- :meth:`Counters.add_member`: remember a member of a counted set (a distinct unknown code per address),
  unless the set already holds ``limit`` members; the set's size after it.

Windows are fixed: a rate of ``N/hour`` counts from the top of each hour (UTC, seconds since the epoch divided
by the duration), and a new window starts from zero. So at most ``N`` pass in any one window, and at most
``2N`` in an hour that straddles two windows.

With Redis (``REDIS_URL``: the cache is ``zwadmin.cache.RedisCache``) each operation is one Lua script; keys
carry the window number and expire at its end. Without Redis the counters are rows of ``zwadmin_counter`` in
the database, written with ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL); a new
window's first row deletes the expired ones (at most once a minute per process).

Redis errors propagate (``redis.exceptions.RedisError``, ``OSError``): the throttles decide what an outage
means (telemetry/throttles.py).
"""

import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction

from .models import Counter

_INCREMENT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIREAT', key, ARGV[1]) end
  counts[i] = n
end
return counts
"""

# KEYS[1]: the set; ARGV: member, limit, expiry. Returns {1 if the member was added, the set's size}.
_ADD_MEMBER = """
local n = redis.call('SCARD', KEYS[1])
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 or n >= tonumber(ARGV[2]) then return {0, n} end
redis.call('SADD', KEYS[1], ARGV[1])
if n == 0 then redis.call('EXPIREAT', KEYS[1], ARGV[3]) end
return {1, n + 1}
"""

PRUNE_EVERY = 60.0  # seconds between deletions of expired rows, per process


@dataclass(frozen=True)
class Window:
    """The current fixed window of a rate's ``duration`` (seconds)."""

    number: int
    ends_at: float

    @classmethod
    def current(cls, duration: int, now: float | None = None) -> "Window":
        now = time.time() if now is None else now
        number = int(now // duration)
        return cls(number, (number + 1) * duration)

    def remaining(self, now: float | None = None) -> float:
        return max(self.ends_at - (time.time() if now is None else now), 1.0)

    def name(self, key: str) -> str:
        return f"{key}:{self.number}"


class Counters:
    """The counters of this deployment: in Redis when the cache is Redis, in the database otherwise."""

    _last_prune = 0.0

    @staticmethod
    def in_redis() -> bool:
        return hasattr(cache, "_cache") and hasattr(cache._cache, "get_client")

    # -- Redis ---------------------------------------------------------------------------------------------

    def _script(self, source: str):
        client = cache._cache.get_client(write=True)
        scripts = client.__dict__.setdefault("_zwadmin_scripts", {})
        if source not in scripts:
            scripts[source] = client.register_script(source)
        return scripts[source]

    # -- the two operations --------------------------------------------------------------------------------

    def increment(self, keys: list[str], window: Window) -> list[int]:
        """Add one to the window's counter of each key; their values after it, in order."""
        if not keys:
            return []
        expires = math.ceil(window.ends_at) + 1
        if self.in_redis():
            names = [cache.make_key(window.name(key)) for key in keys]
            return [int(n) for n in self._script(_INCREMENT)(keys=names, args=[expires])]
        counts = []
        with transaction.atomic():
            for key in keys:
                counts.append(self._upsert(window.name(key), expires))
        self._prune(counts)
        return counts

    def add_member(self, key: str, member: str, limit: int, window: Window) -> tuple[bool, int]:
        """Add ``member`` to the window's set ``key`` unless it is there or the set is full.

        Returns whether it was added, and the set's size (at most ``limit``) after the step.
        """
        expires = math.ceil(window.ends_at) + 1
        if self.in_redis():
            added, size = self._script(_ADD_MEMBER)(
                keys=[cache.make_key(window.name(key))], args=[member, limit, expires]
            )
            return bool(added), int(size)
        name = window.name(key)
        with transaction.atomic():
            if not self._insert(f"{name}:{member}", expires):
                return False, self._read(name)
            size = self._upsert(name, expires, below=limit)
            if size is None:  # full: the member is not one of the set's
                Counter.objects.filter(name=f"{name}:{member}").delete()
                return False, self._read(name)
        self._prune([size])
        return True, size

    def size(self, key: str, window: Window) -> int:
        """The window's count of ``key`` (database store only: Redis callers read their own marks)."""
        return self._read(window.name(key))

    # -- the database store --------------------------------------------------------------------------------

    @staticmethod
    def _table() -> tuple[str, str, str, str]:
        quote = connection.ops.quote_name
        return quote(Counter._meta.db_table), quote("name"), quote("count"), quote("expires_at")

    def _upsert(self, name: str, expires: int, below: int | None = None) -> int | None:
        table, name_col, count_col, expires_col = self._table()
        condition = f" WHERE {table}.{count_col} < %s" if below is not None else ""
        sql = (
            f"INSERT INTO {table} ({name_col}, {count_col}, {expires_col}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({name_col}) DO UPDATE SET {count_col} = {table}.{count_col} + 1{condition} "
            f"RETURNING {count_col}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [name, expires] + ([below] if below is not None else []))
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def _insert(self, name: str, expires: int) -> bool:
        table, name_col, count_col, expires_col = self._table()
        sql = (
            f"INSERT INTO {table} ({name_col}, {count_col}, {expires_col}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({name_col}) DO NOTHING RETURNING {count_col}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [name, expires])
            return cursor.fetchone() is not None

    @staticmethod
    def _read(name: str) -> int:
        return Counter.objects.filter(name=name).values_list("count", flat=True).first() or 0

    def _prune(self, counts: list[int | None]) -> None:
        now = time.monotonic()
        if 1 in counts and now - Counters._last_prune >= PRUNE_EVERY:
            Counters._last_prune = now
            Counter.objects.filter(expires_at__lt=int(time.time())).delete()


counters = Counters()
