"""Every write of what deployed IM servers commit (docs/protocol.md, "Server interface").

One function per endpoint. Each validates (``telemetry.validators``), then writes
in one transaction with a fixed number of queries whatever the batch size: the
batch's customer codes are looked up in one query and its rows upserted in one
statement.

Concurrent batches that overlap (two workers receiving the same server's
retry, several servers of one customer) must never deadlock, so rows reach the
database sorted by their key: every transaction then takes its row locks in
the same order. On PostgreSQL the rows are ``COPY``-ed into a temporary table
and upserted by one ``INSERT … SELECT … ORDER BY key ON CONFLICT DO UPDATE``
(50,000 rows in well under a second); elsewhere (SQLite in development)
``bulk_create(update_conflicts=True)`` does it in batches of the backend's
parameter limit. On conflict the figures and ``last_reported_at`` are replaced,
``first_reported_at`` is kept.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.errors import IngestKeyRejected, RemovedCustomer, UnknownCode
from customers.models import Customer, ingest_key_digest, ingest_key_matches

from .models import MAX_COUNT, ImGroup, ImUser, ServerChange, ServerReport, ServerStatus, UnregisteredServer, UsageDay
from .signals import reports_committed
from .states import differs
from .validators import GROUP_FIELDS, USER_FIELDS, Cleaner, validate_records

logger = logging.getLogger(__name__)


# Asked once the batch's customers are known, before anything is written (telemetry.throttles.CommitGate):
# ``gate(codes, unknown_codes)`` counts the commit against each registered code it may store and each code
# the registry does not know, and returns the codes whose records are refused for now. It may raise to
# refuse the whole request instead; nothing is stored then.
CommitGate = Callable[[list[str], list[str]], set[str]]


def _key_digest(key: Any) -> str | None:
    """The digest of the ingest key a request carried; None when it carried none (or not as text)."""
    return ingest_key_digest(key) if type(key) is str and key else None


# The answer to a batch lists this many rejected records in full, the first by index; the others are counted
# (``BatchResult.unlisted``), so that a batch of junk gets a short answer (docs/protocol.md).
REJECTIONS_LISTED = 100


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    rejected: list[dict[str, Any]] = field(default_factory=list)  # the first REJECTIONS_LISTED, by index
    unlisted: int = 0  # rejected records beyond those


@dataclass(frozen=True)
class _BatchKind:
    model: type[models.Model]
    key: str
    fields: tuple[tuple[str, Cleaner], ...]  # code, key, then the stored values

    @property
    def value_names(self) -> list[str]:
        return [name for name, _clean in self.fields[2:]]


_USERS = _BatchKind(ImUser, "uuid", USER_FIELDS)
_GROUPS = _BatchKind(ImGroup, "gid", GROUP_FIELDS)


def server_report_commit(
    *,
    code: str,
    name: str = "",
    mac: str = "",
    ip: str | None = None,
    timeout: date | None = None,
    count: int = 0,
    updatetimes: int = 0,
    sender_address: str | None = None,
    now: datetime | None = None,
    key: str | None = None,
    gate: CommitGate | None = None,
) -> ServerReport:
    """Store one cleaned server report as history and as the customer's latest status.

    Raises ``customers.errors.UnknownCode`` (after recording the sighting), ``IngestKeyRejected`` (a customer
    that requires its ingest key, and ``key`` is not it) or ``RemovedCustomer``; ``gate`` may refuse it too.
    A MAC or licence expiry that differs from the registry (``states.differs``) is stored as reported and
    logged; the console flags it (``telemetry.states``).
    """
    now = now or timezone.now()
    reported = {
        "name": name,
        "mac": mac,
        "ip": ip,
        "timeout": timeout,
        "count": count,
        "updatetimes": updatetimes,
        "reported_at": now,
        "sender_address": sender_address,
    }
    report = None
    digest = _key_digest(key)
    key_ok = True
    with transaction.atomic():
        customer = (
            Customer.objects.filter(code=code)
            .only("id", "code", "mac", "timeout", "removed_at", "ingest_key_hash", "ingest_key_required")
            .first()
        )
        if customer is not None and customer.ingest_key_required:
            key_ok = ingest_key_matches(customer.ingest_key_hash, digest)
        if customer is None:
            if gate is not None:
                gate([], [code])
            _record_sightings(
                [code],
                sender_address=sender_address,
                now=now,
                details={"name": name, "mac": mac, "ip": ip, "count": count},
            )
            _announce(unknown_codes=[code])
        elif key_ok and customer.removed_at is None:
            if gate is not None:
                gate([code], [])
            report = ServerReport.objects.create(customer=customer, **reported)
            _record_server_changes(customer.pk, reported, now)
            _upsert_status(customer.pk, reported, now)
            _announce(customer_ids=[customer.pk])
    if customer is None:
        logger.info("Server report for unknown code %s from %s", code, sender_address)
        raise UnknownCode()
    if not key_ok:
        problem = "a wrong" if digest else "no"
        logger.warning("Server report for %s from %s refused: %s ingest key", code, sender_address, problem)
        raise IngestKeyRejected(carried=digest is not None)
    if report is None:
        logger.info("Server report for removed customer %s from %s refused", code, sender_address)
        raise RemovedCustomer()
    if differs(customer.mac, mac):
        logger.warning("Customer %s reports MAC %s; the registry licenses %s", code, mac, customer.mac)
    if differs(customer.timeout, timeout):
        logger.warning("Customer %s reports licence expiry %s; the registry says %s", code, timeout, customer.timeout)
    return report


def user_batch_commit(
    *,
    records: Any,
    sender_address: str | None = None,
    now: datetime | None = None,
    key: str | None = None,
    gate: CommitGate | None = None,
) -> BatchResult:
    """Upsert a ``/api/user/commit`` batch by (customer, uuid); bad records are rejected alone.

    The records of a customer that requires its ingest key are rejected (``errors.key``) unless ``key`` is it.
    """
    return _batch_commit(_USERS, records, sender_address=sender_address, now=now, key=key, gate=gate)


def group_batch_commit(
    *,
    records: Any,
    sender_address: str | None = None,
    now: datetime | None = None,
    key: str | None = None,
    gate: CommitGate | None = None,
) -> BatchResult:
    """Upsert a ``/api/group/commit`` batch by (customer, gid); bad records are rejected alone (as users)."""
    return _batch_commit(_GROUPS, records, sender_address=sender_address, now=now, key=key, gate=gate)


def _batch_commit(
    kind: _BatchKind,
    items: Any,
    *,
    sender_address: str | None,
    now: datetime | None,
    key: str | None = None,
    gate: CommitGate | None = None,
) -> BatchResult:
    if not isinstance(items, list):
        raise ValidationError({"data": [_("Enter a JSON array of records.")]})
    now = now or timezone.now()
    # Checked before the transaction opens: 50,000 records are CPU work, not database work.
    cleaned, rejected = validate_records(items, kind.fields, detailed=REJECTIONS_LISTED)
    codes = sorted({values[0] for _index, values in cleaned})
    rows: dict[tuple[Any, str], tuple] = {}  # (customer id, key) -> values; a later record replaces an earlier one
    digest = _key_digest(key)
    customers = _customers_by_code(codes)
    unknown = [code for code in codes if code not in customers]
    keyless = {
        code
        for code, found in customers.items()
        if found.key_required and not ingest_key_matches(found.key_hash, digest)
    }
    storable = [code for code, found in customers.items() if code not in keyless and found.removed_at is None]
    # Counted before the transaction, in steps of their own: a batch refused whole (429) still spends what its
    # unknown codes spent, and the batch's transaction holds no counter (zwadmin/counters.py) while it writes.
    throttled = gate(storable, unknown) if gate is not None else set()
    with transaction.atomic():
        unknown_error = UnknownCode().body()["errors"]
        removed_error = RemovedCustomer().body()["errors"]
        key_error = IngestKeyRejected(carried=digest is not None).body()["errors"]
        throttled_error = {"code": [_("Too many commits for this customer: try again later.")]}
        for index, values in cleaned:
            found = customers.get(values[0])
            if found is None:
                rejected.append({"index": index, "errors": unknown_error})
            elif values[0] in keyless:
                rejected.append({"index": index, "errors": key_error})
            elif found.removed_at is not None:
                rejected.append({"index": index, "errors": removed_error})
            elif values[0] in throttled:
                rejected.append({"index": index, "errors": throttled_error})
            else:
                rows[(found.id, values[1])] = values[2:]
        if unknown:
            _record_sightings(unknown, sender_address=sender_address, now=now)
            _announce(unknown_codes=unknown)
        if rows:
            if connection.vendor == "postgresql":
                _copy_upsert(kind, rows, now)
            else:
                _bulk_upsert(kind, rows, now)
            if kind is _USERS:
                _snapshot_usage_days(sorted({customer_id for customer_id, _key in rows}), now)
    rejected.sort(key=itemgetter("index"))
    result = BatchResult(
        accepted=len(items) - len(rejected),
        rejected=rejected[:REJECTIONS_LISTED],
        unlisted=max(len(rejected) - REJECTIONS_LISTED, 0),
    )
    logger.info(
        "%s batch from %s: %d accepted (%d rows), %d rejected%s",
        kind.model._meta.model_name,
        sender_address,
        result.accepted,
        len(rows),
        len(rejected),
        "".join(
            f", {what} {_some(sorted(codes))}"
            for what, codes in (("unknown codes", unknown), ("no ingest key", keyless), ("throttled", throttled))
            if codes
        ),
    )
    return result


def _announce(*, customer_ids: list[Any] = (), unknown_codes: list[str] = ()) -> None:
    """Send ``signals.reports_committed`` once the transaction commits (never for a rolled-back one)."""
    transaction.on_commit(
        lambda: reports_committed.send(
            sender=Customer, customer_ids=list(customer_ids), unknown_codes=list(unknown_codes)
        ),
        robust=True,
    )


def _some(codes: list[str], shown: int = 20) -> str:
    """The first codes of a list for a log line (a junk batch may carry 50,000)."""
    return ", ".join(codes[:shown]) + (f" and {len(codes) - shown} more" if len(codes) > shown else "")


def _chunked(values: list) -> Iterator[list]:
    """``values`` in pieces that fit one statement (SQLite: under 999 parameters; PostgreSQL: one piece)."""
    size = connection.features.max_query_params
    if size is not None:
        size -= 20  # room for the statement's other parameters
    if size is None or len(values) <= size:
        yield values
        return
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Found(NamedTuple):
    id: Any
    removed_at: datetime | None
    key_hash: str
    key_required: bool


def _customers_by_code(codes: list[str]) -> dict[str, _Found]:
    """``{code: _Found}`` for the codes the registry has, removed customers included, with their ingest keys."""
    found: dict[str, _Found] = {}
    columns = ("code", "id", "removed_at", "ingest_key_hash", "ingest_key_required")
    for chunk in _chunked(codes):
        rows = Customer.objects.filter(code__in=chunk).order_by().values_list(*columns)
        found.update((code, _Found(*rest)) for code, *rest in rows)
    return found


def _record_sightings(
    codes: list[str], *, sender_address: str | None, now: datetime, details: dict[str, Any] | None = None
) -> None:
    """Note that ``codes`` (sorted, unknown to the registry) have reported.

    Codes already listed are updated; new ones are added while the list holds fewer than
    ``TELEMETRY_MAX_UNREGISTERED`` codes, and only logged once it is full. (A bound and a count
    for operators, not an audit: a report racing the very first one of a new code goes uncounted,
    and racing reports of new codes may overshoot the bound by a few.) ``details`` (name,
    MAC, IP, user count) come with a server report; a user or group batch carries none.
    """
    details = details or {}
    existing: set[str] = set()
    for chunk in _chunked(codes):
        # Locked in code order, as every batch does: two batches sighting the same codes queue instead of
        # deadlocking in the UPDATE below, which would lock them in whatever order its plan reads them.
        rows = UnregisteredServer.objects.filter(code__in=chunk).order_by("code").select_for_update()
        existing.update(rows.values_list("code", flat=True))
    if existing:
        changes: dict[str, Any] = {"last_seen_at": now, "reports": F("reports") + 1, **details}
        if sender_address:
            changes["sender_address"] = sender_address
        for chunk in _chunked(sorted(existing)):
            UnregisteredServer.objects.filter(code__in=chunk).update(**changes)
    new = [code for code in codes if code not in existing]
    if not new:
        return
    room = max(settings.TELEMETRY_MAX_UNREGISTERED - UnregisteredServer.objects.count(), 0)
    if room:
        UnregisteredServer.objects.bulk_create(
            [
                UnregisteredServer(
                    code=code, sender_address=sender_address, first_seen_at=now, last_seen_at=now, reports=1, **details
                )
                for code in new[:room]
            ],
            ignore_conflicts=True,  # a concurrent report of the same new code got there first
        )
    if new[room:]:
        logger.warning(
            "Unregistered-server list full (%d); not recording codes %s from %s",
            settings.TELEMETRY_MAX_UNREGISTERED,
            _some(new[room:]),
            sender_address,
        )


def _record_server_changes(customer_id: Any, reported: dict[str, Any], now: datetime) -> None:
    """Note each of name, MAC and IP that differs from the customer's previous report (audit trail)."""
    previous = (
        ServerStatus.objects.select_for_update()
        .filter(customer_id=customer_id)
        .values(*ServerChange.Field.values)
        .first()
    )
    if previous is None:
        return
    changes = [
        ServerChange(
            customer_id=customer_id,
            field=name,
            old_value=previous[name] or "",
            new_value=reported[name] or "",
            changed_at=now,
            sender_address=reported["sender_address"],
        )
        for name in ServerChange.Field.values
        if (previous[name] or "") != (reported[name] or "")
    ]
    if changes:
        ServerChange.objects.bulk_create(changes)
        logger.info("Customer %s server changed: %s", customer_id, "; ".join(map(str, changes)))


def _total(name: str) -> models.Sum:
    """``SUM(name)`` that cannot overflow: PostgreSQL sums bigints as numeric; SQLite's integer SUM raises."""
    if connection.vendor == "sqlite":
        return models.Sum(Cast(name, models.FloatField()))
    return models.Sum(name)


def _snapshot_usage_days(customer_ids: list[Any], now: datetime) -> None:
    """Keep today's usage totals of the batch's customers (sorted: overlapping batches lock in one order)."""
    today = timezone.localdate(now)
    totals = (
        ImUser.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .order_by("customer_id")
        .annotate(users=models.Count("id"), fmsgs=_total("fmsgs"), tmsgs=_total("tmsgs"))
    )
    UsageDay.objects.bulk_create(
        [
            UsageDay(
                day=today,
                updated_at=now,
                customer_id=row["customer_id"],
                users=row["users"],
                # Each user's count fits in a bigint, their sum may not: capped, never an overflow.
                fmsgs=min(int(row["fmsgs"]), MAX_COUNT),
                tmsgs=min(int(row["tmsgs"]), MAX_COUNT),
            )
            for row in totals
        ],
        update_conflicts=True,
        unique_fields=["customer", "day"],
        update_fields=["users", "fmsgs", "tmsgs", "updated_at"],
    )


_STATUS_FIELDS = ("name", "mac", "ip", "timeout", "count", "updatetimes", "reported_at", "sender_address")


def _upsert_status(customer_id: Any, reported: dict[str, Any], now: datetime) -> None:
    """Insert or replace the customer's ``ServerStatus`` in one statement, counting the report.

    ``bulk_create(update_conflicts=True)`` cannot say ``reports = reports + 1``, hence the SQL
    (the same on PostgreSQL and SQLite).
    """
    meta = ServerStatus._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    row = {**reported, "customer": customer_id, "first_reported_at": now, "reports": 1}
    fields = [meta.get_field(name) for name in ("customer", *_STATUS_FIELDS, "first_reported_at", "reports")]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    updates = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields[1 : 1 + len(_STATUS_FIELDS)])
    reports = quote(meta.get_field("reports").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT ({quote(fields[0].column)}) DO UPDATE SET {updates}, {reports} = {table}.{reports} + 1",
            [f.get_db_prep_save(row[f.name], connection) for f in fields],
        )


def _copy_upsert(kind: _BatchKind, rows: dict[tuple[Any, str], tuple], now: datetime) -> None:
    """PostgreSQL: ``COPY`` the rows into a temporary table, then one sorted ``INSERT … ON CONFLICT``."""
    meta = kind.model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in ("customer", kind.key, *kind.value_names)]
    columns = ", ".join(quote(f.column) for f in fields)
    key = ", ".join(quote(f.column) for f in fields[:2])
    first, last = (quote(meta.get_field(name).column) for name in ("first_reported_at", "last_reported_at"))
    updates = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in [*map(quote, (f.column for f in fields[2:])), last]
    )
    temp = quote(f"ingest_{meta.model_name}")
    definitions = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    with connection.cursor() as cursor:
        # ON COMMIT DROP cleans up after a failure; the explicit DROP lets a caller's outer
        # transaction (or a test) commit twice in a row.
        cursor.execute(f"CREATE TEMP TABLE {temp} ({definitions}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
            for (customer_id, key_value), values in rows.items():
                copy.write_row((customer_id, key_value, *values))
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}, {first}, {last}) "
            f"SELECT {columns}, %s, %s FROM {temp} ORDER BY {key} "
            f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
            [now, now],
        )
        cursor.execute(f"DROP TABLE {temp}")


def _bulk_upsert(kind: _BatchKind, rows: dict[tuple[Any, str], tuple], now: datetime) -> None:
    """Any other database: ``bulk_create(update_conflicts=True)``, sorted, batched to the parameter limit."""
    model = kind.model
    names = kind.value_names
    objects = [
        model(
            customer_id=customer_id,
            **{kind.key: key_value},
            **dict(zip(names, values, strict=True)),
            first_reported_at=now,
            last_reported_at=now,
        )
        for (customer_id, key_value), values in sorted(rows.items(), key=itemgetter(0))
    ]
    model.objects.bulk_create(
        objects,
        batch_size=2000,  # capped further by the backend (SQLite: 999 parameters per statement)
        update_conflicts=True,
        unique_fields=["customer", kind.key],
        update_fields=[*names, "last_reported_at"],
    )
