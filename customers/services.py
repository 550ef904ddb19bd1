"""Every write to the customer registry: the API, the admin and commands call these.

Each function validates with the model's own rules (``full_clean``), writes in
one transaction and, once it has committed, refreshes the client lookup cache
for every code the write touched (recorded in the same transaction, so a
refresh Redis missed is applied later: customers/lookup_cache.py). Every save leaves a record in the customer's
audit trail (``Customer.history``); ``by`` names the user it is recorded under.
Without ``by`` it is the user of the console request being served
(``HistoryRequestMiddleware``), or nobody (commands). ``reason``, when the operator gave one,
is recorded with it (``history_change_reason``).
"""

import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .lookup_cache import refresh_after_commit
from .models import INGEST_KEY_PREFIX, Customer, ingest_key_digest

EDITABLE_FIELDS = (
    "code",
    "name",
    "mac",
    "tcphost",
    "tcpport",
    "webhost",
    "webport",
    "filehost",
    "fileport",
    "timeout",
    "contact",
    "ctel",
    "service_engineer",
)


def _record_by(customer: Customer, by: AbstractBaseUser | AnonymousUser | None, reason: str = "") -> None:
    """Name the user, and the reason if given, that the audit trail records for the next save of ``customer``."""
    if by is not None and by.is_authenticated:
        customer._history_user = by
    customer._change_reason = reason.strip() or None


def _refresh_lookup_after_commit(*codes: str) -> None:
    # In the write's transaction: the refresh owed to Redis is recorded with the write and applied once it has
    # committed, or before any process answers from Redis again (customers/lookup_cache.py).
    refresh_after_commit(*codes)


def _save(customer: Customer, **options: Any) -> None:
    """Save a validated customer; a code taken by a concurrent write since ``full_clean`` is still a field error."""
    try:
        with transaction.atomic():
            customer.save(**options)
    except IntegrityError:
        if Customer.objects.filter(code=customer.code).exclude(pk=customer.pk).exists():
            message = Customer._meta.get_field("code").error_messages["unique"]
            raise ValidationError({"code": [ValidationError(message, code="unique")]}) from None
        raise


@transaction.atomic
def customer_create(*, code: str, name: str, by: AbstractBaseUser | None = None, **details: Any) -> Customer:
    unknown = set(details) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"customer_create() got unexpected fields: {', '.join(sorted(unknown))}")
    customer = Customer(code=code, name=name, **details)
    customer.full_clean()
    _record_by(customer, by)
    _save(customer, force_insert=True)
    _refresh_lookup_after_commit(customer.code)
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, data: dict[str, Any], by: AbstractBaseUser | None = None, reason: str = ""
) -> Customer:
    """Apply ``data`` (a subset of the editable fields) to ``customer`` and save it."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unexpected fields: {', '.join(sorted(unknown))}")
    stored_code = Customer.objects.select_for_update().values_list("code", flat=True).get(pk=customer.pk)
    for field, value in data.items():
        setattr(customer, field, value)
    customer.full_clean()
    _record_by(customer, by, reason)
    if not data:  # a console "save" with nothing changed: no empty entry in the audit trail
        customer.skip_history_when_saving = True
    try:
        _save(customer)
    finally:
        customer.__dict__.pop("skip_history_when_saving", None)
    _refresh_lookup_after_commit(stored_code, customer.code)
    return customer


@transaction.atomic
def customer_remove(*, customer: Customer, by: AbstractBaseUser | None = None, reason: str = "") -> Customer:
    """Take the customer out of the registry: lookups answer 404 and its reports are refused."""
    if customer.removed_at is None:
        customer.removed_at = timezone.now()
        _record_by(customer, by, reason)
        customer.save(update_fields=["removed_at", "updated_at"])
    _refresh_lookup_after_commit(customer.code)
    return customer


@transaction.atomic
def customer_restore(*, customer: Customer, by: AbstractBaseUser | None = None, reason: str = "") -> Customer:
    """Put a removed customer back in the registry, history intact."""
    if customer.removed_at is not None:
        customer.removed_at = None
        _record_by(customer, by, reason)
        customer.save(update_fields=["removed_at", "updated_at"])
    _refresh_lookup_after_commit(customer.code)
    return customer


# Ingest keys (docs/operations.md "Ingest keys"): the lookup answer does not change, so no cache refresh.


@transaction.atomic
def customer_ingest_key_rotate(*, customer: Customer, by: AbstractBaseUser | None = None) -> str:
    """Give the customer a new ingest key and return it: the only time it is ever readable.

    The previous key stops working at once; whether reports must carry the key is unchanged.
    """
    key = INGEST_KEY_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk", flat=True).get()
    customer.ingest_key_hash = ingest_key_digest(key)
    customer.ingest_key_rotated_at = timezone.now()
    _record_by(customer, by)
    customer.save(update_fields=["ingest_key_hash", "ingest_key_rotated_at", "updated_at"])
    return key


@transaction.atomic
def customer_ingest_key_require(*, customer: Customer, required: bool, by: AbstractBaseUser | None = None) -> Customer:
    """Require the ingest key on the customer's reports, or stop requiring it; requiring needs a key."""
    locked = Customer.objects.select_for_update().values_list("ingest_key_hash", "ingest_key_required")
    customer.ingest_key_hash, customer.ingest_key_required = locked.get(pk=customer.pk)
    if required and not customer.ingest_key_hash:
        message = _("Generate an ingest key for this customer before requiring it.")
        raise ValidationError({"ingest_key_required": [ValidationError(message, code="no_key")]})
    if customer.ingest_key_required != required:
        customer.ingest_key_required = required
        _record_by(customer, by)
        customer.save(update_fields=["ingest_key_required", "updated_at"])
    return customer
