"""The client lookup's answers kept in Redis, and why none is ever stale, even after a Redis outage.

Without ``REDIS_URL`` (``settings.LOOKUP_CACHE`` false) nothing is kept: every lookup reads the registry (one
indexed query), so every worker gives the database's answer. With Redis, the answer of each code is kept as
ready-to-send JSON bytes (``customer-info:v1:<code>``) and mirrored by each process's near cache
(zwadmin/cache.py). Readers fill it with ``add`` (never overwriting); writes refresh it.

**The guarantee.** A lookup that begins after a registry write has been saved (the console's or the API's
answer has come back) answers what the write saved, through every worker of every node, whether Redis was up,
paused, slow, unreachable or restarted while the write was saved. Lookups that run while the write is being
saved may give either answer.

**How.** Every write records a :class:`~customers.models.LookupRefresh` row per code *in its own transaction*
(:func:`refresh_after_commit`): the record of a refresh owed to Redis cannot be lost, even if the process dies
the moment it commits. After the commit the writer refreshes Redis (:func:`refresh`: set, then read the
registry again and set again until Redis holds what the registry says) and marks the rows applied. If Redis
does not confirm, the rows stay *pending*.

Before a process answers from Redis it must have *checked* the rows (:func:`ensure_fresh`) within the last
``CHECK_EVERY`` seconds, and since its near cache's subscription last changed (lost, renewed: Redis restarted
or unreachable), and since it last saw Redis fail (:func:`note_cache_failure`). A check reads the (tiny)
table: pending rows are applied (refresh, as the writer would), and if there is a row it has not seen before,
the process drops every near-cache copy (and any being read). A check that succeeds has applied every row it
read, and only a successful check lets the process read Redis, so a row seen before cannot make a copy stale.
Rows are deleted ``KEEP`` after they were applied.

Why that suffices: a refresh that fails on a Redis that is paused or slow fails only after Redis has not
answered for the socket timeout (2 s, settings.py), so Redis can answer nothing again before the write's row
has been committed for longer than ``CHECK_EVERY`` (1 s, shorter): any process that answers from Redis after
that has checked since the row was committed, found it and applied it. A Redis that was stopped (refused)
breaks every process's subscription, and the process checks again before it reads Redis. A near-cache copy
taken before the refresh is dropped by the first check that sees its row; a process idle through all of
``KEEP`` holds only copies older than the near cache's ``MAX_AGE`` (30 s), which it no longer serves.
Writes outside these services (``Customer.objects.update()`` in a shell, a restored backup) bypass all of this:
``manage.py shell -c "from django.core.cache import cache; cache.clear()"`` afterwards (docs/operations.md).
"""

import logging
import threading
import time
from datetime import timedelta

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .models import Customer, LookupRefresh

logger = logging.getLogger(__name__)

CONNECTION_FIELDS = (
    "code",
    "name",
    "tcphost",
    "tcpport",
    "webhost",
    "webport",
    "filehost",
    "fileport",
    "timeout",
)
UNKNOWN = b""  # the kept answer for a code that is not (or no longer) in the registry

# Seconds a check of the rows stays valid: shorter than the Redis socket timeout (settings.py, 2 s).
CHECK_EVERY = 1.0
# How long an applied row is kept, so that every active process notices it and drops its copies: longer than
# the near cache's MAX_AGE (30 s) plus CHECK_EVERY, with room for clocks of nodes that differ by a minute.
KEEP = timedelta(seconds=120)
# A refresh that keeps finding a newer registry answer than the one it has just set gives up after this many.
MAX_ROUNDS = 5


def cache_key(code: str) -> str:
    return f"customer-info:v1:{code}"


def answer_from_database(code: str) -> bytes:
    """The lookup answer for ``code`` as JSON bytes, ``UNKNOWN`` when no active customer has it."""
    row = Customer.objects.active().filter(code=code).values(*CONNECTION_FIELDS).first()
    return orjson.dumps(row) if row else UNKNOWN


def answers_from_database(codes: list[str]) -> dict[str, bytes]:
    """:func:`answer_from_database` of each of ``codes``, in one query per 500 codes."""
    found = {}
    for start in range(0, len(codes), 500):
        rows = Customer.objects.active().filter(code__in=codes[start : start + 500]).values(*CONNECTION_FIELDS)
        found.update((row["code"], orjson.dumps(row)) for row in rows)
    return {code: found.get(code, UNKNOWN) for code in codes}


def refresh_after_commit(*codes: str) -> None:
    """Call inside a registry write's transaction: Redis gets the new answers of ``codes`` once it commits."""
    codes = sorted({code for code in codes if code})
    if not settings.LOOKUP_CACHE or not codes:
        return
    rows = LookupRefresh.objects.bulk_create([LookupRefresh(code=code) for code in codes])
    ids = [row.pk for row in rows]

    def after_commit():
        try:
            refresh(codes, ids)
        except Exception as error:  # the write has committed: a cache that is down must not fail the save
            note_cache_failure()
            logger.warning(
                "lookup cache: refresh of %s failed (%s: %s); it stays pending and is applied before Redis "
                "answers another lookup",
                ", ".join(codes),
                type(error).__name__,
                error,
            )

    transaction.on_commit(after_commit)


def refresh(codes: list[str], ids: list[int] | None = None) -> None:
    """Make Redis hold the registry's answers for ``codes``, then mark the rows ``ids`` applied.

    Set, then read the registry again: if a concurrent write changed an answer meanwhile, set it again, so a
    slower refresher can never leave an older answer behind a newer one. Raises what Redis raises.
    """
    answers = answers_from_database(list(codes))
    for _round in range(MAX_ROUNDS):
        cache.set_many(
            {cache_key(code): answer for code, answer in answers.items()}, settings.CUSTOMER_INFO_CACHE_SECONDS
        )
        again = answers_from_database(list(answers))
        answers = {code: answer for code, answer in again.items() if answer != answers[code]}
        if not answers:
            break
    else:
        logger.warning("lookup cache: %s kept changing while refreshed; left pending", ", ".join(answers))
        ids = None  # the rows stay pending: the next check refreshes again
    if ids:
        LookupRefresh.objects.filter(pk__in=ids, applied_at=None).update(applied_at=timezone.now())


class _Checks:
    """This process's last check of the rows (see the module)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked_at: float | None = None  # time.monotonic() when the rows were read
        self.epoch: int | None = None  # the near cache's epoch before they were read
        self.seen: set[int] = set()  # the rows it read (all applied once a check has succeeded)

    def current(self, epoch: int | None) -> bool:
        checked_at = self.checked_at
        return (
            checked_at is not None
            and epoch is not None
            and epoch == self.epoch
            and time.monotonic() - checked_at < CHECK_EVERY
        )


_checks = _Checks()


def _near_cache_epoch() -> int | None:
    epoch = getattr(cache, "near_cache_epoch", None)
    return epoch() if epoch is not None else 0


def ensure_fresh() -> None:
    """Call before answering a lookup from Redis: checks the rows if due (see the module).

    Raises what Redis raises when pending rows cannot be applied: answer from the database then.
    """
    if _checks.current(_near_cache_epoch()):
        return
    with _checks.lock:
        epoch = _near_cache_epoch()
        if _checks.current(epoch):
            return  # another thread has just checked
        started = time.monotonic()
        rows = list(LookupRefresh.objects.order_by("pk").values_list("pk", "code", "applied_at"))
        if rows:
            if any(pk not in _checks.seen for pk, _code, _applied_at in rows):
                drop = getattr(cache, "near_cache_drop", None)
                if drop is not None:
                    drop()
            pending = [(pk, code) for pk, code, applied_at in rows if applied_at is None]
            if pending:
                refresh(sorted({code for _pk, code in pending}), [pk for pk, _code in pending])
            old = timezone.now() - KEEP
            expired = [pk for pk, _code, applied_at in rows if applied_at is not None and applied_at < old]
            if expired:
                LookupRefresh.objects.filter(pk__in=expired).delete()
        _checks.seen = {pk for pk, _code, _applied_at in rows}
        _checks.epoch, _checks.checked_at = epoch, started


def note_cache_failure() -> None:
    """This process saw Redis fail: check the rows again before the next answer from Redis."""
    _checks.checked_at = None


def connection_info_json(*, code: str) -> bytes | None:
    """The lookup answer for ``code`` as JSON bytes, or None when no active customer has it.

    From Redis when it keeps answers (the caller has called :func:`ensure_fresh`), else from the database.
    """
    if not settings.LOOKUP_CACHE:
        return answer_from_database(code) or None
    key = cache_key(code)
    payload = cache.get(key)
    if payload is None:
        payload = answer_from_database(code)
        cache.add(key, payload, settings.CUSTOMER_INFO_CACHE_SECONDS)
    return payload or None
