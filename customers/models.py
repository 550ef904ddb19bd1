import datetime
import hashlib
import hmac
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .licence import LicenceState, licence_condition, licence_state
from .validators import (
    CODE_PATTERN,
    normalize_mac,
    validate_customer_code,
    validate_host,
    validate_mac,
    validate_phone,
)


class CustomerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)

    def removed(self):
        return self.filter(removed_at__isnull=False)

    def with_licence_state(self, state: str, today: datetime.date | None = None):
        condition = licence_condition(state, today)
        return self.none() if condition is None else self.filter(condition)


def port_field(verbose_name):
    return models.PositiveIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )


def host_field(verbose_name, help_text):
    return models.CharField(verbose_name, max_length=253, blank=True, validators=[validate_host], help_text=help_text)


class Customer(models.Model):
    """A company that runs our IM system on its own premises: one row of the customer registry.

    The IM clients find their servers through ``code``; deployed servers report under it.
    Removal is soft (``removed_at``): a removed customer vanishes from lookups and lists,
    its reports are refused, its history stays, and an operator can restore it.
    """

    id = models.UUIDField(_("customer id"), primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(
        _("customer code"),
        max_length=12,
        unique=True,
        validators=[validate_customer_code],
        help_text=_("4 to 12 digits, e.g. 0513001. IM clients know only this."),
        error_messages={"unique": _("A customer with this code already exists.")},
    )
    name = models.CharField(_("customer name"), max_length=100)
    mac = models.CharField(
        _("licensed MAC"),
        max_length=23,
        blank=True,
        validators=[validate_mac],
        help_text=_("MAC address of the customer's IM server, e.g. 56:E8:F6:23:EF."),
    )
    tcphost = host_field(_("TCP server host"), _("Public IP or host name of the TCP_Server."))
    tcpport = port_field(_("TCP server port"))
    webhost = host_field(_("web server host"), _("Public IP or host name of the WEB_Server."))
    webport = port_field(_("web server port"))
    filehost = host_field(_("file server host"), _("Public IP or host name of the FILE_Server."))
    fileport = port_field(_("file server port"))
    timeout = models.DateField(_("licence expiry"), null=True, blank=True)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    ctel = models.CharField(_("contact phone"), max_length=32, blank=True, validators=[validate_phone])
    # The document's ``server`` (负责服务人员): our engineer, not the customer's IM server. The wire name stays.
    service_engineer = models.CharField(
        _("service engineer"), max_length=50, blank=True, help_text=_("Our engineer responsible for this customer.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True, editable=False)
    # Server authentication, opt-in (docs/operations.md "Ingest keys"): the document's servers send no credential, so a
    # customer's reports need its key only once an operator requires it. Only the key's SHA-256 is stored
    # (``ingest_key_digest``); the key is shown once, when generated. Set through ``services`` only.
    ingest_key_hash = models.CharField(_("ingest key (SHA-256)"), max_length=64, blank=True, editable=False)
    ingest_key_rotated_at = models.DateTimeField(_("ingest key generated"), null=True, blank=True, editable=False)
    ingest_key_required = models.BooleanField(
        _("ingest key required"),
        default=False,
        editable=False,
        help_text=_("Reports without this customer's ingest key are refused."),
    )

    objects = CustomerQuerySet.as_manager()
    # The audit trail: every save (add, edit, removal, restore) stores the row as it then was, with who
    # and when. updated_at is left out: history_date says when, and a diff should list only real changes.
    history = HistoricalRecords(excluded_fields=["updated_at", "ingest_key_hash"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["timeout"], name="customer_timeout_idx"),
            models.Index(fields=["service_engineer"], name="customer_engineer_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=CODE_PATTERN), name="customer_code_digits"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{port}__isnull": True}) | models.Q(**{f"{port}__range": (1, 65535)}),
                    name=f"customer_{port}_range",
                )
                for port in ("tcpport", "webport", "fileport")
            ],
            models.CheckConstraint(
                condition=models.Q(ingest_key_required=False) | ~models.Q(ingest_key_hash=""),
                name="customer_ingest_key_required_has_key",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def clean(self):
        if self.mac:
            try:
                self.mac = normalize_mac(self.mac)
            except ValidationError:
                pass  # the field's own validator has already reported it under "mac"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    def licence_state(self, today: datetime.date | None = None) -> LicenceState:
        return licence_state(self.timeout, today)


# Ingest keys: 32 random bytes, so a plain SHA-256 is as strong as a slow password hash (nothing to guess
# from), and checking one costs microseconds on every commit instead of PBKDF2's hundreds of milliseconds.
INGEST_KEY_PREFIX = "zwk_"  # recognisable in a config file or by a secret scanner


def ingest_key_digest(key: str) -> str:
    """The stored form of an ingest key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def ingest_key_matches(stored_hash: str, digest: str | None) -> bool:
    """Whether ``digest`` (``ingest_key_digest`` of what a server sent) is the customer's key; constant time."""
    return bool(stored_hash) and digest is not None and hmac.compare_digest(stored_hash, digest)


class LookupRefresh(models.Model):
    """A lookup answer in Redis that must be refreshed: written with the edit, in its transaction.

    ``applied_at`` is set once Redis has confirmed the new answer; the row is kept a while after that so every
    process notices it and drops its near-cache copies, then deleted (customers/lookup_cache.py).
    """

    code = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.code} ({'applied' if self.applied_at else 'pending'})"
