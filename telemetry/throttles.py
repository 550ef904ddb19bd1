"""Throttles for the machine endpoints, and what they do when the cache (Redis) is down.

- ``UnknownCodeLookupThrottle``: distinct unknown codes per client address, for the lookup *and* the
  commits (one allowance: every answer that tells a known code from an unknown one spends it).
- ``CommitRateThrottle``: commits per customer code and endpoint, never per address (a company's
  hundreds of clients, and its IM server, sit behind one NAT address).
- ``CommitGate``: both, as the commit services ask them once the batch's customers are known.

Both count in fixed windows (``N/hour`` from the top of each hour), each count one atomic step shared by every
process and node (``zwadmin.counters``: a Lua script in Redis, an upsert in the database without Redis), so a
burst of concurrent requests lets exactly the allowance through; two windows' allowances may pass within one
period across their boundary.

Throttles protect the service; they must never take it down. A cache that raises (Redis unreachable)
lets every request through unthrottled, and says so in the log once per outage (``cache_outage``).
"""

import hashlib
import logging
import math
import time

from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from customers.lookup_cache import note_cache_failure
from zwadmin.client_address import client_ip
from zwadmin.counters import Window, counters

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is unreachable or too slow (redis-py wraps socket errors, but
# a near-cache subscription or a connection pool may let an OSError through).
CACHE_ERRORS = (RedisError, OSError)


class CacheOutage:
    """This process's view of the cache's health: a circuit breaker, so a hung Redis costs one timeout.

    After a failure the cache is not asked again for ``RETRY_AFTER`` seconds (requests go unthrottled and
    the lookup reads the database); the first failure of an outage and the recovery are logged once.
    """

    RETRY_AFTER = 5.0

    def __init__(self):
        self.failed_at: float | None = None

    def usable(self) -> bool:
        failed_at = self.failed_at
        return failed_at is None or time.monotonic() - failed_at >= self.RETRY_AFTER

    def failed(self, error: BaseException, consequence: str) -> None:
        note_cache_failure()  # the lookup checks its owed refreshes before it answers from Redis again
        if self.failed_at is None:
            logger.warning(
                "cache unavailable (%s: %s): %s until it answers again", type(error).__name__, error, consequence
            )
        self.failed_at = time.monotonic()

    def recovered(self) -> None:
        if self.failed_at is not None:
            self.failed_at = None
            logger.warning("cache available again")


cache_outage = CacheOutage()


class _FixedWindowThrottle(SimpleRateThrottle):
    """DRF's rate setting (``DEFAULT_THROTTLE_RATES[scope]``, ``N/hour``) counted in fixed windows, atomically.

    Only the rate parsing of ``SimpleRateThrottle`` is used: its read-append-write history is not atomic, so
    concurrent requests could all read the same history and all pass. The counts live in
    ``zwadmin.counters`` (a Lua script in Redis, an upsert in the database without Redis).
    """

    def __init__(self):
        super().__init__()  # rate, num_requests, duration; rate None: no limit
        self.window = Window.current(self.duration) if self.rate is not None else None

    def wait(self):
        return self.window.remaining() if self.window is not None else None


class UnknownCodeLookupThrottle(_FixedWindowThrottle):
    """Limits how many *distinct* unknown codes one client address may look up in a window.

    Only misses count, and each unknown code counts once per window, so a
    company's hundreds of clients behind one NAT address (all asking for their
    one valid code at 9:00, or a few clients retrying a mistyped code) are never
    refused. An address that has probed as many distinct unknown codes as the
    rate allows is refused every lookup until the window ends, known codes
    included: otherwise a 200 among the 429s would still tell an enumerator
    which codes exist.

    With Redis, the refusal is also a cache key (:meth:`get_cache_key`, value: when the window ends) that the
    lookup reads with its answer in one round trip, mirrored by every process's near cache (zwadmin/cache.py):
    an address refused by one worker is refused by every worker at once. Without Redis the count is read from
    the database.
    """

    scope = "lookup_unknown"

    def get_ident(self, request):
        # The one client address of the project (zwadmin.client_address): DRF's own trusts a client-written
        # X-Forwarded-For when NUM_PROXIES is unset.
        return client_ip(request) or ""

    def get_cache_key(self, request, view=None):
        """The key of the address's refusal mark (Redis); its unknown codes are counted under ``…:codes``."""
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def is_refused(self, request) -> bool:
        """Whether the address has used up its allowance."""
        if counters.in_redis():
            return self.is_marked(self.cache.get(self.get_cache_key(request)))
        return counters.size(f"{self.get_cache_key(request)}:codes", self.window) >= self.num_requests

    def is_marked(self, mark) -> bool:
        """Whether ``mark`` (the refusal key's value, Redis only) refuses the address now."""
        return isinstance(mark, (int, float)) and mark > time.time()

    def record_unknown_code(self, request, view, code: str) -> bool:
        """Count a miss on ``code``; False when the address has used up its allowance (this miss included)."""
        key = self.get_cache_key(request)
        member = hashlib.blake2b(code.encode(), digest_size=12).hexdigest()
        added, size = counters.add_member(f"{key}:codes", member, self.num_requests, self.window)
        allowed = size <= self.num_requests if added else size < self.num_requests
        if size >= self.num_requests and counters.in_redis():
            # Announced to every process's near cache: refused everywhere at once.
            self.cache.set(key, self.window.ends_at, math.ceil(self.window.remaining()))
        return allowed


class CommitRateThrottle(_FixedWindowThrottle):
    """Limits how many commits of one endpoint each customer code may make (``ZWADMIN_COMMIT_RATE``).

    Per code, never per address: every server of a company, and every company behind a hosting
    provider's NAT, has its own allowance. A commit counts once per distinct code it stores, whatever
    the number of its records. Only codes that may store count: a report refused for its key (or for
    an unknown or removed code) spends nothing, so nobody without the key can use up a keyed customer's
    allowance. The counters of many codes are counted in one step.
    """

    scope = "commit"

    def __init__(self, endpoint: str):
        super().__init__()
        self.endpoint = endpoint

    def code_key(self, code: str) -> str:
        return self.cache_format % {"scope": f"{self.scope}_{self.endpoint}", "ident": code}

    def admit(self, codes: list[str]) -> tuple[set[str], float | None]:
        """Count one commit for each code; the codes that were over the rate, and when to retry (seconds)."""
        if self.rate is None or not codes:
            return set(), None
        counts = counters.increment([self.code_key(code) for code in codes], self.window)
        over = {code for code, count in zip(codes, counts, strict=True) if count > self.num_requests}
        return over, self.wait() if over else None


class CommitGate:
    """The throttles of one commit request (``telemetry.services.CommitGate``).

    :meth:`check_address` first, before anything is parsed: an address that has used up its unknown-code
    allowance (here or at the lookup) is refused every commit, known codes included, as the lookup refuses
    it every lookup; otherwise a 200 among the 429s would tell an enumerator which codes exist. Then the
    service calls the gate with the codes it may store and those the registry does not know:

    - each distinct unknown code spends the address's allowance once per window (a server retrying its
      one mistyped code spends one); a request that goes past it is refused whole (429), nothing stored,
      so a batch of 50,000 made-up codes learns nothing;
    - each storable code counts one commit; over-limit codes' records are rejected by index, unless every
      storable code is over, and then the whole request is refused (429 with Retry-After), which is the
      usual case of a server that reports only its own code.
    """

    def __init__(self, request, view, endpoint: str):
        self.request = request
        self.view = view
        self.lookup = UnknownCodeLookupThrottle()
        self.rate = CommitRateThrottle(endpoint)

    UNTHROTTLED = "commits are not throttled"

    def check_address(self) -> None:
        if not cache_outage.usable():
            return
        try:
            refused = self.lookup.is_refused(self.request)
        except CACHE_ERRORS as error:
            cache_outage.failed(error, self.UNTHROTTLED)
            return
        cache_outage.recovered()
        if refused:
            raise exceptions.Throttled(wait=self.lookup.wait())

    def __call__(self, codes: list[str], unknown: list[str]) -> set[str]:
        if not cache_outage.usable():
            return set()
        try:
            for code in unknown:
                if not self.lookup.record_unknown_code(self.request, self.view, code):
                    raise exceptions.Throttled(wait=self.lookup.wait())
            over, wait = self.rate.admit(codes)
        except CACHE_ERRORS as error:
            cache_outage.failed(error, self.UNTHROTTLED)
            return set()
        if over and len(over) == len(codes):
            raise exceptions.Throttled(wait=wait)
        return over
