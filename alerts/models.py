"""Alerts: the rules that watch the fleet, the alerts they open, the channels that carry the news, and the
outbox of messages on their way (docs/alerts.md).

An ``Alert`` is one condition of one subject (a customer, or a code the registry does not know) for as long as
it holds: opened once when it starts, resolved when it ends. The database keeps it so: at most one open alert
per rule and subject (partial unique constraints), whatever number of nodes evaluate at once.
"""

import datetime
import re
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Customer


class RuleKey(models.TextChoices):
    """The rules, in the order the console lists them (``alerts.rules`` defines what each watches)."""

    SILENT = "silent", _("server silent")
    NEVER_REPORTED = "never_reported", _("never reported after registration")
    LICENCE_FIRST = "licence_first", _("licence expiring: first notice")
    LICENCE_SECOND = "licence_second", _("licence expiring: second notice")
    LICENCE_LAST = "licence_last", _("licence expiring: last notice")
    LICENCE_EXPIRED = "licence_expired", _("licence expired")
    MAC_MISMATCH = "mac_mismatch", _("reported MAC differs from the registry")
    TIMEOUT_MISMATCH = "timeout_mismatch", _("reported licence expiry differs from the registry")
    UNREGISTERED = "unregistered", _("unregistered server reporting")
    USER_COUNT = "user_count", _("user count changed sharply")


class Rule(models.Model):
    """One rule of ``RuleKey``: whether it runs and its threshold. The rows are fixed (created by the
    migration); operators change only these two fields."""

    key = models.CharField(_("rule"), max_length=20, choices=RuleKey.choices, unique=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    threshold = models.PositiveIntegerField(
        _("threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Its unit and default are given beside each rule."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    evaluated_at = models.DateTimeField(_("last evaluated"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["id"]

    def __str__(self):
        return str(RuleKey(self.key).label)


class Resolution(models.TextChoices):
    ENDED = "ended", _("condition ended")
    SUPERSEDED = "superseded", _("replaced by a more urgent alert")
    REMOVED = "removed", _("customer removed from the registry")
    DISABLED = "disabled", _("rule disabled")


class Alert(models.Model):
    """One condition of one customer (or of an unregistered code) while it holds, and what operators did about it."""

    id = models.BigAutoField(primary_key=True)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("rule"))
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts", verbose_name=_("customer")
    )
    code = models.CharField(_("customer code"), max_length=12)
    name = models.CharField(_("name"), max_length=100, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    since = models.DateTimeField(_("since"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    silenced_until = models.DateField(
        _("silenced until"), null=True, blank=True, help_text=_("No message about it through this day (included).")
    )
    silence_reason = models.CharField(_("reason for silencing"), max_length=200, blank=True)
    silenced_at = models.DateTimeField(_("silenced"), null=True, blank=True)
    silenced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("silenced by"),
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # No condition produces two open alerts, whatever evaluates at once (docs/alerts.md).
            models.UniqueConstraint(
                fields=["rule", "customer"],
                condition=Q(resolved_at__isnull=True, customer__isnull=False),
                name="alert_one_open_per_rule_customer",
            ),
            models.UniqueConstraint(
                fields=["rule", "code"],
                condition=Q(resolved_at__isnull=True, customer__isnull=True),
                name="alert_one_open_per_rule_code",
            ),
            models.CheckConstraint(
                condition=Q(silenced_until__isnull=True) | ~Q(silence_reason=""), name="alert_silence_has_reason"
            ),
        ]
        indexes = [
            # Every evaluation reads a rule's open alerts: the history of resolved ones grows, this stays small.
            models.Index(fields=["rule"], condition=Q(resolved_at__isnull=True), name="alert_open_rule_idx"),
            models.Index(fields=["-opened_at"], name="alert_opened_idx"),
            models.Index(fields=["customer", "-opened_at"], name="alert_customer_idx"),
        ]

    def __str__(self):
        return f"{self.rule} · {self.code} {self.name}".strip()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def is_silenced(self, now: datetime.datetime | None = None) -> bool:
        return self.silenced_until is not None and self.silenced_until >= timezone.localdate(now)


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("e-mail")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk robot")
    FEISHU = "feishu", _("Feishu robot")


class Channel(models.Model):
    """Where messages go: an e-mail list or a group robot, the rules it subscribes to, whose customers, and
    when it must not ring (quiet hours: messages wait for a digest when they end).

    ``webhook_url`` (it carries the robot's token) and ``secret`` (DingTalk's and Feishu's signing key) are
    write-only in the console and never logged.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    recipients = models.TextField(
        _("recipients"), blank=True, help_text=_("E-mail only: addresses separated by commas or new lines.")
    )
    webhook_url = models.CharField(_("webhook URL"), max_length=500, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    rules = models.ManyToManyField(Rule, blank=True, related_name="channels", verbose_name=_("rules"))
    service_engineer = models.CharField(
        _("service engineer"),
        max_length=50,
        blank=True,
        help_text=_("Only alerts about this engineer's customers. Empty: every customer, and unregistered servers."),
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="channel_quiet_hours_both_or_none",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def recipient_list(self) -> list[str]:
        return [address.strip() for address in re.split(r"[,;\n]", self.recipients) if address.strip()]

    def _quiet_window(self, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime] | None:
        """The quiet period that contains ``now`` (local time), if any: (start, end)."""
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return None
        local = timezone.localtime(now)
        tz = local.tzinfo
        for days in (-1, 0):
            day = local.date() + datetime.timedelta(days=days)
            start = datetime.datetime.combine(day, self.quiet_start, tzinfo=tz)
            end_day = day if self.quiet_end > self.quiet_start else day + datetime.timedelta(days=1)
            end = datetime.datetime.combine(end_day, self.quiet_end, tzinfo=tz)
            if start <= local < end:
                return start, end
        return None

    def quiet_until(self, now: datetime.datetime) -> datetime.datetime | None:
        """When the quiet hours that contain ``now`` end; ``None`` outside them."""
        window = self._quiet_window(now)
        return None if window is None else window[1]


class MessageKind(models.TextChoices):
    OPENED = "opened", _("alert opened")
    RESOLVED = "resolved", _("alert resolved")
    DIGEST = "digest", _("digest")
    TEST = "test", _("test message")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    UNCONFIRMED = "unconfirmed", _("outcome unknown")
    DIGESTED = "digested", _("sent in a digest")


class OutboxMessage(models.Model):
    """One message to one channel: the outbox. Written in the transaction that changes the alert, sent by
    ``run_alerts``; its text is fixed when it is queued, so a retry sends the same words.

    Status: waiting → sending (recorded before the request) → sent, or back to waiting with a later
    ``next_attempt_at`` after a timeout or a 5xx, or failed (a refusal, or still failing a day after it was due).
    A message left *sending* by a crash becomes *outcome unknown*, never sent again by itself (docs/alerts.md).
    """

    id = models.BigAutoField(primary_key=True)
    key = models.UUIDField(_("message key"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages", verbose_name=_("channel"))
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("alert")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    title = models.CharField(_("title"), max_length=200)
    lines = models.JSONField(_("text"), default=list)
    link = models.CharField(_("link"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    held = models.BooleanField(_("held for the digest"), default=False)
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="parts", verbose_name=_("digest")
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("alert message", "message")
        verbose_name_plural = pgettext_lazy("alert message", "messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_idx"),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="outbox_sending_idx"),
            models.Index(fields=["channel", "-created_at"], name="outbox_channel_idx"),
            models.Index(fields=["-created_at", "-id"], name="outbox_created_idx"),  # the console's list
            # The channel list's per-channel figures (waiting, not delivered) and the "not delivered" filter:
            # each reads only the messages it counts, not every message of the channel or of the day.
            models.Index(fields=["channel"], condition=Q(status="pending"), name="outbox_channel_waiting_idx"),
            models.Index(
                fields=["channel", "-created_at"],
                condition=Q(status__in=["failed", "unconfirmed"]),
                name="outbox_problem_idx",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def text(self) -> str:
        return "\n".join([*self.lines, self.link] if self.link else self.lines)
