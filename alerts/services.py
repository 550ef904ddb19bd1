"""Every write of the alerts app: evaluating the rules, the outbox's delivery, and what operators do.

**Evaluation** (``alerts_evaluate``) runs family by family (``alerts.rules.FAMILIES``), each in its own
transaction, in a fixed number of queries whatever the fleet's size: the family's open alerts, the subjects in
its conditions, then one bulk write each for the alerts it opens, those it resolves and their messages. Two
nodes evaluating at once: on PostgreSQL a family's rule rows are taken ``FOR UPDATE SKIP LOCKED`` (the second
node skips the family this minute); on SQLite the transaction takes the database's write lock first. Whatever
slips past that (the ingest's immediate check does not lock), the partial unique constraints on open alerts
refuse: an alert that would be a second one is not opened, and sends nothing.

**Delivery** (``outbox_drain``): messages are claimed one at a time (``SKIP LOCKED``), marked *sending* and
committed before the request goes out, then marked sent, retried later, or failed. See ``OutboxMessage``.
"""

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .channels import DeliveryFailed, send
from .models import Alert, Channel, MessageKind, MessageStatus, OutboxMessage, Resolution, Rule, RuleKey
from .rules import FAMILIES, Family, Subject
from .texts import MESSAGE_LANGUAGE, RESOLUTION_SENDS_MESSAGE, Text, alert_text, digest_text, test_text

logger = logging.getLogger(__name__)

GIVE_UP_AFTER = datetime.timedelta(days=1)
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# More messages than this due at once for one channel go out as one digest: the robots take 20 a minute and
# ask for summaries beyond that; a network outage silencing 500 servers is one message, not 500.
BURST = 5


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def sending_lease() -> datetime.timedelta:
    """How long a message may stay *sending* before a crash is assumed (longer than any attempt can take)."""
    return datetime.timedelta(seconds=2 * settings.ALERTS_SEND_TIMEOUT_SECONDS + 60)


def _take_write_lock() -> None:
    """SQLite: take the database's write lock before the transaction reads, so two writers queue for it instead
    of failing ("database is locked") when the one that read first tries to write. PostgreSQL: nothing (rows
    are locked where needed)."""
    if connection.vendor == "sqlite":
        Rule.objects.filter(pk__lt=0).update(evaluated_at=None)


# --- evaluation ---------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    opened: int = 0
    resolved: int = 0
    messages: int = 0
    skipped: list[str] = field(default_factory=list)  # families another node was evaluating
    failed: list[str] = field(default_factory=list)  # families that raised (logged, rolled back)


def alerts_evaluate(
    *,
    now: datetime.datetime | None = None,
    families: tuple[Family, ...] = FAMILIES,
    customer_ids: list[Any] | None = None,
    codes: list[str] | None = None,
    lock: bool = True,
) -> Evaluation:
    """Open the alerts whose condition started, resolve those whose condition ended, queue their messages.

    ``customer_ids`` / ``codes`` narrow it to some subjects (the ingest's immediate check, ``lock=False``: it
    must not wait for a node's evaluation; the constraints keep it right).
    """
    now = now or timezone.now()
    result = Evaluation()
    rules = rules_by_key()
    channels = _Channels()
    for family in families:
        try:
            with transaction.atomic():
                if not _claim(family, rules, now, lock=lock and customer_ids is None and codes is None):
                    result.skipped.append(family.name)
                    continue
                _evaluate_family(
                    family, [rules[key] for key in family.keys], channels, now, customer_ids, codes, result
                )
        except Exception:  # one rule's failure (rolled back) must not keep the others from running
            logger.exception("Alert rules %s could not be evaluated", family.name)
            result.failed.append(family.name)
    return result


def rules_by_key() -> dict[str, Rule]:
    """Every rule, by key. The migration creates them; one missing (a flushed database, a partial restore) is
    created again with its defaults, so evaluation never depends on what a data load left."""
    rules = {rule.key: rule for rule in Rule.objects.all()}
    if len(rules) < len(RuleKey.values):
        Rule.objects.bulk_create([Rule(key=key) for key in RuleKey.values if key not in rules], ignore_conflicts=True)
        rules = {rule.key: rule for rule in Rule.objects.all()}
    return rules


def _claim(family: Family, rules: dict[str, Rule], now, *, lock: bool) -> bool:
    """Make this transaction the family's only evaluator; False when another node holds it (PostgreSQL)."""
    ids = [rules[key].pk for key in family.keys]
    if lock and connection.features.has_select_for_update_skip_locked:
        if len(Rule.objects.select_for_update(skip_locked=True).filter(pk__in=ids).values_list("pk")) < len(ids):
            return False
    if lock:
        Rule.objects.filter(pk__in=ids).update(evaluated_at=now)
    else:
        _take_write_lock()
    return True


class _Channels:
    """The enabled channels and their rules, read once per evaluation and only if a message is due."""

    def __init__(self):
        self._channels: list[tuple[Channel, set[int]]] | None = None

    def subscribed(self, rule_id: int, service_engineer: str) -> list[Channel]:
        if self._channels is None:
            self._channels = [
                (channel, {rule.pk for rule in channel.rules.all()})
                for channel in Channel.objects.filter(enabled=True).prefetch_related("rules")
            ]
        return [
            channel
            for channel, rule_ids in self._channels
            if rule_id in rule_ids and (not channel.service_engineer or channel.service_engineer == service_engineer)
        ]


def _evaluate_family(family, rules, channels, now, customer_ids, codes, result: Evaluation) -> None:
    # The open alerts are read before the conditions (a concurrent opener's alert is then either seen here or
    # refused by the constraint below), as plain rows: the steady run touches thousands and changes none.
    open_alerts = Alert.objects.filter(rule__in=rules, resolved_at__isnull=True)
    if customer_ids is not None:
        open_alerts = open_alerts.filter(customer_id__in=customer_ids)
    if codes is not None:
        open_alerts = open_alerts.filter(customer__isnull=True, code__in=codes)
    open_rows = [
        (pk, rule_id, code if family.by_code else customer_id)
        for pk, rule_id, customer_id, code in open_alerts.values_list("pk", "rule_id", "customer_id", "code")
    ]
    by_id = {rule.pk: rule for rule in rules}
    enabled = [rule for rule in rules if rule.enabled]
    current: dict[Any, Subject] = {}
    if enabled:
        known = frozenset((rule_id, key) for _pk, rule_id, key in open_rows)
        for subject in family.subjects(enabled, now, customer_ids=customer_ids, codes=codes, known=known):
            current[subject.key] = subject

    held = set()  # (rule id, subject key) of the alerts that stay open
    ending: dict[str, list[int]] = {}
    for pk, rule_id, key in open_rows:
        subject = current.get(key)
        if subject is not None and subject.rule.pk == rule_id:
            held.add((rule_id, key))
            continue
        if not by_id[rule_id].enabled:
            resolution = Resolution.DISABLED
        elif subject is not None:
            resolution = Resolution.SUPERSEDED
        else:
            resolution = Resolution.ENDED  # or REMOVED: _resolve tells, from the customer it reads
        ending.setdefault(resolution, []).append(pk)
    starting = [subject for key, subject in current.items() if (subject.rule.pk, key) not in held]

    messages: list[OutboxMessage] = []
    for resolution, ids in ending.items():
        for alert in _resolve(ids, resolution, now):
            result.resolved += 1
            if alert.resolution in RESOLUTION_SENDS_MESSAGE and not alert.is_silenced(now):
                engineer = alert.customer.service_engineer if alert.customer else ""
                messages += _queue(alert, MessageKind.RESOLVED, channels, engineer, now)
    for alert, subject in _open(starting, rules, now):
        result.opened += 1
        if not alert.is_silenced(now):
            messages += _queue(alert, MessageKind.OPENED, channels, subject.service_engineer, now)
    if messages:
        OutboxMessage.objects.bulk_create(messages)
        result.messages += len(messages)


def _resolve(ids: list[int], resolution: str, now) -> list[Alert]:
    """Resolve those of the alerts ``ids`` still open (locked first: a concurrent evaluator that resolved one
    wins); returns them, resolved."""
    resolved = list(
        Alert.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, resolved_at__isnull=True)
        .select_related("rule", "customer", "acknowledged_by")
    )
    if not resolved:
        return []
    removed = [
        alert
        for alert in resolved
        if resolution == Resolution.ENDED and alert.customer is not None and alert.customer.removed_at is not None
    ]
    if removed:  # the condition ended because the customer left the registry: nothing to announce
        Alert.objects.filter(pk__in=[alert.pk for alert in removed]).update(
            resolved_at=now, resolution=Resolution.REMOVED
        )
        for alert in removed:
            alert.resolved_at, alert.resolution = now, Resolution.REMOVED
        resolved = [alert for alert in resolved if alert.resolution != Resolution.REMOVED]
    Alert.objects.filter(pk__in=[alert.pk for alert in resolved]).update(resolved_at=now, resolution=resolution)
    for alert in resolved:
        alert.resolved_at, alert.resolution = now, resolution
    return [*removed, *resolved]


def _open(subjects: list[Subject], rules: list[Rule], now) -> list[tuple[Alert, Subject]]:
    """Insert the new alerts; one a concurrent evaluator opened first is left out (the constraint refuses it)."""
    if not subjects:
        return []
    silences = _silences(rules, now)
    pairs = []
    for subject in subjects:
        alert = Alert(
            rule=subject.rule,
            customer_id=subject.customer_id,
            code=subject.code,
            name=subject.name,
            details=subject.details,
            since=subject.since,
            opened_at=now,
        )
        # A silenced condition that ends and starts again stays silenced until the date the operator chose.
        silence = silences.get((subject.rule.pk, subject.key))
        if silence is not None:
            alert.silenced_until, alert.silence_reason, alert.silenced_at, alert.silenced_by_id = silence
        pairs.append((alert, subject))
    try:
        with transaction.atomic():
            Alert.objects.bulk_create([alert for alert, _subject in pairs])
        return pairs
    except IntegrityError:
        pass
    opened = []
    for alert, subject in pairs:  # only after a race: one by one, skipping the ones already open
        alert.pk = None
        try:
            with transaction.atomic():
                alert.save(force_insert=True)
            opened.append((alert, subject))
        except IntegrityError:
            logger.info("Alert %s for %s was opened by another node", subject.rule.key, subject.code)
    return opened


def _silences(rules: list[Rule], now) -> dict[tuple[int, Any], tuple]:
    rows = Alert.objects.filter(rule__in=rules, silenced_until__gte=timezone.localdate(now)).values_list(
        "rule_id", "customer_id", "code", "silenced_until", "silence_reason", "silenced_at", "silenced_by_id"
    )
    return {
        (rule_id, customer_id if customer_id is not None else code): silence
        for rule_id, customer_id, code, *silence in rows
    }


def _queue(alert: Alert, kind: str, channels: _Channels, engineer: str, now) -> list[OutboxMessage]:
    targets = channels.subscribed(alert.rule_id, engineer)
    if not targets:
        return []
    text = alert_text(alert, kind, now, engineer)
    return [_message(channel, text, kind, now, alert=alert) for channel in targets]


def _message(channel: Channel, text: Text, kind: str, now, *, alert: Alert | None = None, **fields) -> OutboxMessage:
    """A message for the outbox; held for the digest when it is queued in the channel's quiet hours."""
    quiet_until = channel.quiet_until(now) if kind in (MessageKind.OPENED, MessageKind.RESOLVED) else None
    due = quiet_until or now
    return OutboxMessage(
        channel=channel,
        alert=alert,
        kind=kind,
        title=text.title[:200],
        lines=text.lines,
        link=text.link,
        held=quiet_until is not None,
        created_at=now,
        due_at=due,
        next_attempt_at=due,
        **fields,
    )


# --- delivery -----------------------------------------------------------------------------------------------


@dataclass
class Drain:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    digests: int = 0
    unconfirmed: int = 0
    gave_up: int = 0


def outbox_drain(*, now: datetime.datetime | None = None, limit: int = 200) -> Drain:
    """Send what is due, once: reconcile crashed attempts, give up on the day-old, combine digests, then send
    up to ``limit`` messages, each claimed alone (``SKIP LOCKED``) so that any number of nodes can drain."""
    now = now or timezone.now()
    result = Drain()
    with translation.override(MESSAGE_LANGUAGE):
        result.unconfirmed = _reconcile(now)
        result.gave_up = _give_up(now)
        channels = {channel.pk: channel for channel in Channel.objects.all()}
        paused = {pk for pk, channel in channels.items() if not channel.enabled or channel.quiet_until(now)}
        due_channels = set(
            OutboxMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            .exclude(channel_id__in=paused)
            .values_list("channel_id", flat=True)
            .distinct()
        )
        for pk in sorted(due_channels):
            result.digests += _digest(channels[pk], now)
        for _number in range(limit):
            message = _claim_message(now, paused)
            if message is None:
                break
            outcome = _deliver(message)
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _reconcile(now) -> int:
    """Messages left *sending* by a crash between the request and its record: whether they went out cannot be
    known (no robot nor SMTP server can be asked), so none is sent again by itself: *outcome unknown*, shown in
    the console with a *send again* action."""
    count = OutboxMessage.objects.filter(status=MessageStatus.SENDING, claimed_at__lt=now - sending_lease()).update(
        status=MessageStatus.UNCONFIRMED,
        last_error=_("The sender stopped while sending it: it may or may not have arrived."),
    )
    if count:
        logger.warning("%d alert message(s) were being sent when a sender stopped: marked outcome unknown", count)
    return count


def _give_up(now) -> int:
    stale = OutboxMessage.objects.filter(status=MessageStatus.PENDING, due_at__lt=now - GIVE_UP_AFTER)
    count = 0
    for message in stale.only("pk", "last_error"):
        count += OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.PENDING).update(
            status=MessageStatus.FAILED,
            last_error=_("Gave up after a day of failed attempts. Last error: %(error)s")
            % {"error": message.last_error or _("none (the channel was disabled or in quiet hours)")},
        )
    if count:
        logger.error("%d alert message(s) still failing after a day: given up", count)
    return count


def _digest(channel: Channel, now) -> int:
    """Combine the channel's due messages into one when some were held for quiet hours or they are a burst."""
    with transaction.atomic():
        _take_write_lock()
        parts = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                channel=channel,
                status=MessageStatus.PENDING,
                next_attempt_at__lte=now,
                kind__in=[MessageKind.OPENED, MessageKind.RESOLVED],
            )
            .order_by("created_at", "id")
        )
        if not parts or (not any(part.held for part in parts) and len(parts) <= BURST):
            return 0
        digest = _message(channel, digest_text(parts, quiet=any(part.held for part in parts)), MessageKind.DIGEST, now)
        digest.save()
        OutboxMessage.objects.filter(pk__in=[part.pk for part in parts]).update(
            status=MessageStatus.DIGESTED, digest=digest
        )
    return 1


def _claim_message(now, paused: set[int]) -> OutboxMessage | None:
    """Take the next due message: marked *sending* (and committed) before it is sent."""
    with transaction.atomic():
        _take_write_lock()
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("channel")
            .filter(status=MessageStatus.PENDING, next_attempt_at__lte=now)
            .exclude(channel_id__in=paused)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        claimed = timezone.now()
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENDING, claimed_at=claimed, attempts=F("attempts") + 1
        )
    message.status, message.claimed_at, message.attempts = MessageStatus.SENDING, claimed, message.attempts + 1
    return message


def _deliver(message: OutboxMessage) -> str:
    """Send one claimed message and record the outcome: "sent", "retrying" or "failed"."""
    channel = message.channel
    try:
        send(channel, message)
    except DeliveryFailed as error:
        return _record_failure(message, redact(error.text, channel), retry=error.retry)
    except Exception as error:  # a bug of ours: logged without its text, which might quote the channel's URL
        logger.error("Alert message %s to channel %s: %s while sending", message.pk, channel.pk, type(error).__name__)
        return _record_failure(message, _("Internal error (%(kind)s)") % {"kind": type(error).__name__}, retry=True)
    OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
        status=MessageStatus.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
    )
    logger.info("Alert message %s sent to channel %s (%s)", message.pk, channel.pk, channel.name)
    return "sent"


def _record_failure(message: OutboxMessage, error: str, *, retry: bool) -> str:
    now = timezone.now()
    pending = OutboxMessage.objects.filter(pk=message.pk, status=MessageStatus.SENDING)
    channel = message.channel
    if retry and now < message.due_at + GIVE_UP_AFTER:
        retry_at = now + backoff(message.attempts)
        pending.update(status=MessageStatus.PENDING, next_attempt_at=retry_at, claimed_at=None, last_error=error)
        logger.warning(
            "Alert message %s to channel %s (%s), attempt %d: %s; next attempt at %s",
            message.pk,
            channel.pk,
            channel.name,
            message.attempts,
            error,
            retry_at.isoformat(timespec="seconds"),
        )
        return "retrying"
    if retry:
        error = _("Gave up after a day of failed attempts. Last error: %(error)s") % {"error": error}
    pending.update(status=MessageStatus.FAILED, claimed_at=None, last_error=error)
    logger.error("Alert message %s to channel %s (%s) failed: %s", message.pk, channel.pk, channel.name, error)
    return "failed"


def redact(text: str, channel: Channel) -> str:
    """``text`` without the channel's secrets (its webhook URL, the URL's query values, its signing secret)."""
    secrets = [channel.webhook_url, channel.secret]
    if "?" in channel.webhook_url:
        secrets += [value for pair in channel.webhook_url.split("?", 1)[1].split("&") for value in pair.split("=")[1:]]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# --- what operators do --------------------------------------------------------------------------------------


def channel_test(*, channel: Channel) -> OutboxMessage:
    """Send a test message through ``channel`` now (quiet hours or not), recorded in the outbox like any other;
    returns it sent or failed (``last_error``)."""
    now = timezone.now()
    with translation.override(MESSAGE_LANGUAGE):
        message = _message(channel, test_text(channel, now), MessageKind.TEST, now)
        message.status, message.claimed_at, message.attempts = MessageStatus.SENDING, now, 1
        message.save()
        try:
            send(channel, message)
        except DeliveryFailed as error:
            message.status, message.last_error = MessageStatus.FAILED, redact(error.text, channel)
            logger.warning("Test message to channel %s (%s) failed: %s", channel.pk, channel.name, message.last_error)
        except Exception as error:  # a bug of ours: logged without its text, which might quote the channel's URL
            message.status = MessageStatus.FAILED
            message.last_error = _("Internal error (%(kind)s)") % {"kind": type(error).__name__}
            logger.error("Test message to channel %s: %s while sending", channel.pk, type(error).__name__)
        else:
            message.status, message.sent_at = MessageStatus.SENT, timezone.now()
    message.claimed_at = None
    message.save(update_fields=["status", "last_error", "sent_at", "claimed_at"])
    return message


def message_resend(*, messages: QuerySet) -> int:
    """Queue failed or outcome-unknown messages again, as if new (the give-up day starts again)."""
    now = timezone.now()
    return messages.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNCONFIRMED]).update(
        status=MessageStatus.PENDING, due_at=now, next_attempt_at=now, claimed_at=None
    )


def alert_acknowledge(*, alerts: QuerySet, by) -> int:
    """Record that ``by`` has seen these alerts (the ones not acknowledged yet); returns how many."""
    return alerts.filter(acknowledged_at__isnull=True).update(acknowledged_at=timezone.now(), acknowledged_by=by)


def alert_silence(*, alert: Alert, until: datetime.date | None, reason: str, by) -> Alert:
    """Silence ``alert`` through ``until`` (no message about it, nor about the same condition of the same
    subject starting again before then), or lift the silence (``until`` None)."""
    if until is None:
        alert.silenced_until, alert.silence_reason, alert.silenced_at, alert.silenced_by = None, "", None, None
    else:
        alert.silenced_until, alert.silence_reason = until, reason
        alert.silenced_at, alert.silenced_by = timezone.now(), by
    alert.full_clean()
    alert.save(update_fields=["silenced_until", "silence_reason", "silenced_at", "silenced_by"])
    return alert
