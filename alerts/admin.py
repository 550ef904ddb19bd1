"""The console's pages of the alerts (django-unfold): alerts with their filters, acknowledging and silencing;
the rules and their thresholds; the channels with their *send a test message* action; the outbox, where a
message that could not be delivered shows why.

Who may do what is ``console.roles``: 运维 manage channels and rules and acknowledge or silence alerts;
技术支持 view alerts. Every write goes through ``alerts.services``.
"""

import datetime

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter, RelatedDropdownFilter
from unfold.decorators import display

from zwadmin.admin_lists import ConsoleListMixin
from zwadmin.lists import LargeTableAdminMixin

from . import services, texts
from .forms import ChannelForm, SilenceForm
from .models import Alert, Channel, MessageStatus, OutboxMessage, Rule
from .rules import RULES, silent_hours, threshold
from .texts import state, when


def counted(rows, field: str):
    """How many of ``rows`` point (by ``field``) to the listed row, as a correlated subquery: one index lookup
    per row listed, whatever the size of ``rows``' table. ``COUNT(*)``, not of the id: an index holding only
    ``field`` (a partial one, say) answers it alone, without reading a row."""
    per_row = rows.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(per_row), 0)


class AlertStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", _("open")),
            ("unacknowledged", _("open, not acknowledged")),
            ("silenced", _("silenced")),
            ("resolved", _("resolved")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        return {
            "open": queryset.filter(resolved_at__isnull=True),
            "unacknowledged": queryset.filter(resolved_at__isnull=True, acknowledged_at__isnull=True),
            "silenced": queryset.filter(silenced_until__gte=today),
            "resolved": queryset.filter(resolved_at__isnull=False),
        }.get(self.value(), queryset)


class ServiceEngineerFilter(admin.SimpleListFilter):
    title = _("service engineer")
    parameter_name = "engineer"

    def lookups(self, request, model_admin):
        from customers.models import Customer

        names = Customer.objects.exclude(service_engineer="").order_by("service_engineer")
        return [(name, name) for name in names.values_list("service_engineer", flat=True).distinct()]

    def queryset(self, request, queryset):
        return queryset.filter(customer__service_engineer=self.value()) if self.value() else queryset


STATE_LABELS = {"open": "danger", "acknowledged": "warning", "silenced": "info", "resolved": "success"}


def _state(alert: Alert) -> tuple[str, str]:
    if alert.resolved_at is not None:
        return "resolved", _("resolved")
    if alert.is_silenced():
        return "silenced", _("silenced")
    if alert.acknowledged_at is not None:
        return "acknowledged", _("acknowledged")
    return "open", _("open")


# What an alert's page shows first, read-only.
SUMMARY = ("state_text", "rule", "subject", "what", "since_display", "opened", "resolved", "resolution")


@admin.register(Alert)
class AlertAdmin(ConsoleListMixin, LargeTableAdminMixin, ModelAdmin):
    form = SilenceForm
    list_display = ("state_label", "rule", "subject", "what", "since_display", "opened", "resolved", "handled")
    list_display_links = ("what",)  # the subject cell links to the customer
    list_filter = (
        AlertStateFilter,
        ("rule", RelatedDropdownFilter),
        ServiceEngineerFilter,
        ("opened_at", RangeDateTimeFilter),
    )
    list_filter_submit = True  # the date range filter's inputs
    list_select_related = ("rule", "customer", "acknowledged_by", "silenced_by")
    search_fields = ("code", "name")
    actions = ("acknowledge_selected",)
    list_per_page = 50
    readonly_fields = (*SUMMARY, "acknowledgement", "silence", "message_list")
    fieldsets = (
        (None, {"fields": SUMMARY}),
        (_("Handling"), {"fields": ("acknowledgement", "silence", "silenced_until", "silence_reason")}),
        (_("Messages"), {"fields": ("message_list",)}),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an alert is a record: it resolves, it is never deleted

    @display(description=_("state"), label=STATE_LABELS)
    def state_label(self, alert: Alert):
        return _state(alert)

    @admin.display(description=_("state"))
    def state_text(self, alert: Alert):
        return _state(alert)[1]

    @admin.display(description=_("customer"), ordering="code")
    def subject(self, alert: Alert):
        if alert.customer_id is None:
            url = reverse("admin:telemetry_unregisteredserver_changelist") + "?" + urlencode({"q": alert.code})
            return format_html('<a href="{}">{}</a>', url, texts.subject(alert))
        url = reverse("admin:customers_customer_change", args=[alert.customer_id])
        return format_html('<a href="{}">{} {}</a>', url, alert.code, alert.name)

    @admin.display(description=_("what holds"))
    def what(self, alert: Alert):
        return state(alert, timezone.now())

    @admin.display(description=_("since"), ordering="since")
    def since_display(self, alert: Alert):
        return when(alert.since)

    @admin.display(description=_("opened"), ordering="opened_at")
    def opened(self, alert: Alert):
        return when(alert.opened_at)

    @admin.display(description=_("resolved"), ordering="resolved_at")
    def resolved(self, alert: Alert):
        return when(alert.resolved_at) if alert.resolved_at else "—"

    @admin.display(description=_("handled"))
    def handled(self, alert: Alert):
        parts = []
        if alert.acknowledged_at:
            parts.append(self.acknowledgement(alert))
        if alert.silenced_until:
            parts.append(self.silence(alert))
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts)) if parts else "—"

    @admin.display(description=_("acknowledged"))
    def acknowledgement(self, alert: Alert):
        if not alert.acknowledged_at:
            return _("not yet")
        who = alert.acknowledged_by.get_username() if alert.acknowledged_by else "—"
        return _("by %(who)s, %(when)s") % {"who": who, "when": when(alert.acknowledged_at)}

    @admin.display(description=_("silenced"))
    def silence(self, alert: Alert):
        if not alert.silenced_until:
            return _("no")
        who = alert.silenced_by.get_username() if alert.silenced_by else "—"
        return _("until %(until)s by %(who)s, %(when)s: %(reason)s") % {
            "until": f"{alert.silenced_until:%Y-%m-%d}",
            "who": who,
            "when": when(alert.silenced_at),
            "reason": alert.silence_reason,
        }

    @admin.display(description=_("messages"))
    def message_list(self, alert: Alert):
        sent = alert.messages.select_related("channel").order_by("created_at", "id")
        rows = [(when(m.created_at), m.channel.name, m.get_kind_display(), m.get_status_display()) for m in sent]
        if not rows:
            return _("No message: no channel subscribes to this rule, or the alert is silenced.")
        url = reverse("admin:alerts_outboxmessage_changelist") + "?" + urlencode({"alert__id__exact": alert.pk})
        return format_html(
            '<table class="zw-alert-messages"><tbody>{}</tbody></table><a href="{}">{}</a>',
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
            url,
            _("all its messages"),
        )

    def save_model(self, request, obj, form, change):
        services.alert_silence(
            alert=obj,
            until=form.cleaned_data.get("silenced_until"),
            reason=form.cleaned_data.get("silence_reason", ""),
            by=request.user,
        )

    @admin.action(description=_("Acknowledge selected alerts"), permissions=["change"])
    def acknowledge_selected(self, request, queryset):
        count = services.alert_acknowledge(alerts=queryset, by=request.user)
        self.message_user(
            request, ngettext("Acknowledged %d alert.", "Acknowledged %d alerts.", count) % count, messages.SUCCESS
        )


@admin.register(Rule)
class RuleAdmin(ConsoleListMixin, ModelAdmin):
    list_display = ("rule_name", "enabled", "threshold_display", "meaning", "open_alerts", "evaluated")
    list_editable = ("enabled",)
    fields = ("rule_name", "meaning", "enabled", "threshold", "unit_and_default")
    readonly_fields = ("rule_name", "meaning", "unit_and_default")

    def get_queryset(self, request):
        # A count per rule from its open alerts' index: not a join of every alert ever resolved.
        return (
            super()
            .get_queryset(request)
            .annotate(open_count=counted(Alert.objects.filter(resolved_at__isnull=True), "rule"))
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("rule"), ordering="id")
    def rule_name(self, rule: Rule):
        return str(rule)

    @admin.display(description=_("last evaluated"), ordering="evaluated_at")
    def evaluated(self, rule: Rule):
        return when(rule.evaluated_at) if rule.evaluated_at else "—"

    @admin.display(description=_("what it watches"))
    def meaning(self, rule: Rule):
        return RULES[rule.key].help

    @admin.display(description=_("threshold"))
    def threshold_display(self, rule: Rule):
        spec = RULES[rule.key]
        if not spec.unit:
            return "—"
        value = threshold(rule)
        if value is None:  # the silent rule without its own: the console's boundary
            return _("console's (%(hours)d hours)") % {"hours": silent_hours(rule).total_seconds() // 3600}
        return f"{value} {spec.unit}"

    @admin.display(description=_("unit and default"))
    def unit_and_default(self, rule: Rule):
        spec = RULES[rule.key]
        if not spec.unit:
            return _("This rule has no threshold.")
        default = spec.default if spec.default is not None else "ZWADMIN_SILENT_AFTER_HOURS"
        return _("%(unit)s; empty: %(default)s") % {"unit": spec.unit, "default": default}

    @admin.display(description=_("open alerts"), ordering="open_count")
    def open_alerts(self, rule: Rule):
        url = reverse("admin:alerts_alert_changelist") + "?" + urlencode({"state": "open", "rule__id__exact": rule.pk})
        return format_html('<a href="{}">{}</a>', url, rule.open_count)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and "threshold" in form.base_fields:
            spec = RULES[obj.key]
            form.base_fields["threshold"].disabled = not spec.unit
            form.base_fields["threshold"].help_text = self.unit_and_default(obj)
        return form


@admin.register(Channel)
class ChannelAdmin(ConsoleListMixin, ModelAdmin):
    form = ChannelForm
    list_display = ("name", "kind", "enabled", "rule_count", "service_engineer", "quiet_hours", "delivery")
    list_filter = (("kind", ChoicesDropdownFilter), "enabled")
    search_fields = ("name", "service_engineer")
    actions = ("send_test",)
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("name", "kind", "enabled")}),
        (_("Where"), {"fields": ("recipients", "webhook_url", "secret", "clear_secret")}),
        (_("What"), {"fields": ("rules", "service_engineer")}),
        (
            _("Quiet hours"),
            {
                "description": _(
                    "Messages queued between these times (China time) wait and go out as one digest when they end."
                ),
                "fields": ("quiet_start", "quiet_end"),
            },
        ),
    )

    def get_queryset(self, request):
        # One count per channel and figure, each from an index (the channel's recent messages, the waiting ones):
        # not a join of every message the channel ever carried with its rules.
        week_ago = timezone.now() - datetime.timedelta(days=7)
        problems = [MessageStatus.FAILED, MessageStatus.UNCONFIRMED]
        return (
            super()
            .get_queryset(request)
            .annotate(
                rule_total=counted(Channel.rules.through.objects.all(), "channel"),
                failures=counted(
                    OutboxMessage.objects.filter(status__in=problems, created_at__gte=week_ago), "channel"
                ),
                waiting=counted(OutboxMessage.objects.filter(status=MessageStatus.PENDING), "channel"),
            )
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "rules":
            from django import forms
            from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

            kwargs["widget"] = UnfoldAdminCheckboxSelectMultipleWidget
            kwargs["required"] = False
            return forms.ModelMultipleChoiceField(queryset=Rule.objects.all(), **kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("rules"), ordering="rule_total")
    def rule_count(self, channel: Channel):
        return channel.rule_total

    @admin.display(description=_("quiet hours"))
    def quiet_hours(self, channel: Channel):
        if channel.quiet_start is None:
            return "—"
        return f"{channel.quiet_start:%H:%M}–{channel.quiet_end:%H:%M}"

    @admin.display(description=_("delivery"))
    def delivery(self, channel: Channel):
        url = reverse("admin:alerts_outboxmessage_changelist")
        parts = []
        if channel.failures:
            query = urlencode({"channel__id__exact": channel.pk, "status": "problem"})
            text = (
                ngettext("%d message not delivered", "%d messages not delivered", channel.failures) % channel.failures
            )
            parts.append(format_html('<a href="{}?{}" style="color:#dc2626">⚠ {}</a>', url, query, text))
        if channel.waiting:
            query = urlencode({"channel__id__exact": channel.pk, "status": MessageStatus.PENDING})
            text = ngettext("%d waiting", "%d waiting", channel.waiting) % channel.waiting
            parts.append(format_html('<a href="{}?{}">{}</a>', url, query, text))
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts)) if parts else _("all delivered")

    @admin.action(description=_("Send a test message through the selected channels"), permissions=["change"])
    def send_test(self, request, queryset):
        for channel in queryset:
            message = services.channel_test(channel=channel)
            if message.status == MessageStatus.SENT:
                self.message_user(
                    request, _("“%(name)s”: test message sent.") % {"name": channel.name}, messages.SUCCESS
                )
            else:
                self.message_user(
                    request,
                    _("“%(name)s”: the test message failed: %(error)s")
                    % {"name": channel.name, "error": message.last_error},
                    messages.ERROR,
                )


class MessageStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("problem", _("not delivered (failed or outcome unknown)")), *MessageStatus.choices]

    def queryset(self, request, queryset):
        if self.value() == "problem":
            return queryset.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNCONFIRMED])
        return queryset.filter(status=self.value()) if self.value() else queryset


MESSAGE_LABELS = {
    MessageStatus.SENT: "success",
    MessageStatus.DIGESTED: "success",
    MessageStatus.PENDING: "info",
    MessageStatus.SENDING: "info",
    MessageStatus.FAILED: "danger",
    MessageStatus.UNCONFIRMED: "warning",
}


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ConsoleListMixin, LargeTableAdminMixin, ModelAdmin):
    list_display = (
        "title",
        "channel",
        "kind",
        "status_label",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = (MessageStatusFilter, ("channel", RelatedDropdownFilter), ("kind", ChoicesDropdownFilter))
    list_select_related = ("channel",)
    list_links = ("alert__id__exact",)  # an alert's page links to its messages
    search_fields = ("title",)
    list_per_page = 50  # as the other large lists: the theme's rendering of a row, not the query, is the cost
    actions = ("resend_selected",)
    readonly_fields = (
        "title",
        "body",
        "channel",
        "alert",
        "kind",
        "status_label",
        "attempts",
        "created_at",
        "due_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "digest",
        "key",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("status"), label=MESSAGE_LABELS)
    def status_label(self, message: OutboxMessage):
        return message.status, message.get_status_display()

    @admin.display(description=_("text"))
    def body(self, message: OutboxMessage):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", message.text)

    @admin.action(description=_("Send the selected messages again"), permissions=["change"])
    def resend_selected(self, request, queryset):
        count = services.message_resend(messages=queryset)
        self.message_user(
            request,
            ngettext("%d message queued again.", "%d messages queued again.", count) % count,
            messages.SUCCESS,
        )
