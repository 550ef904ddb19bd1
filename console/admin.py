"""The customer as the console shows it: the registry (``customers.admin.CustomerAdmin``) and, beside it,
what the customer's server reports (``telemetry``): the reporting state and mismatch columns and filters,
and on the customer's page the latest report, charts, its users, groups and server changes.

The registry app sits below telemetry and cannot import it, so the composition is registered here.
"""

from django.contrib import admin
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from rangefilter.filters import DateRangeFilterBuilder

from customers.admin import CustomerAdmin, LicenceStateFilter, RegistryStateFilter
from customers.models import Customer
from telemetry.admin import CUSTOMER_LOOKUP, display_value, flagged
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport, ServerStatus
from telemetry.states import (
    MISMATCH_CONDITIONS,
    MISMATCH_TONE,
    REPORTED_LAST_DAY,
    Mismatch,
    ReportingState,
    reporting_condition,
    reporting_state,
    silent_after,
)
from zwadmin.charts import Labels, daily_chart

from .dashboard import customer_daily_figures


class ReportingStateFilter(admin.SimpleListFilter):
    """Whether the customer's server is reporting, by the age of its latest report (``telemetry.states``)."""

    title = _("reporting")
    parameter_name = "reporting"

    def lookups(self, request, model_admin):
        hours = silent_after().total_seconds() // 3600
        return [
            (REPORTED_LAST_DAY, _("reported in the last 24 hours")),
            (ReportingState.LIVE, _("live (reported within %(hours)d hours)") % {"hours": hours}),
            (ReportingState.SILENT, _("silent (no report for %(hours)d hours)") % {"hours": hours}),
            (ReportingState.NEVER, ReportingState.NEVER.label),
        ]

    def queryset(self, request, queryset):
        condition = reporting_condition(self.value()) if self.value() else None
        return queryset if condition is None else queryset.filter(condition)


class MismatchFilter(admin.SimpleListFilter):
    """Customers whose server's latest report contradicts the registry."""

    title = _("report differs from the registry")
    parameter_name = "mismatch"

    def lookups(self, request, model_admin):
        return Mismatch.choices

    def queryset(self, request, queryset):
        condition = MISMATCH_CONDITIONS.get(self.value())
        return queryset if condition is None else queryset.filter(condition)


def _changelist_link(model, customer: Customer, text):
    url = reverse(f"admin:telemetry_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode({CUSTOMER_LOOKUP: customer.pk}), text)


class CustomerTelemetryAdminMixin:
    """For the customer's admin: its change page shows what the customer's server last reported and links
    to the customer's users, groups and report history, each for operators allowed to view them.

    Read-only fields rather than a ServerStatus inline: an inline's formset would have to be
    posted back with every save of the customer form, though there is nothing in it to save.
    """

    telemetry_fields = {
        "telemetry_status": "telemetry.view_serverstatus",
        "telemetry_users": "telemetry.view_imuser",
        "telemetry_groups": "telemetry.view_imgroup",
        "telemetry_reports": "telemetry.view_serverreport",
        "telemetry_activity": "telemetry.view_serverreport",
        "telemetry_changes": "telemetry.view_serverchange",
    }

    def _telemetry_fields(self, request, obj) -> tuple[str, ...]:
        if obj is None:  # the add page: nothing reported yet
            return ()
        return tuple(name for name, perm in self.telemetry_fields.items() if request.user.has_perm(perm))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        fields = self._telemetry_fields(request, obj)
        return [*fieldsets, (_("Telemetry"), {"fields": fields})] if fields else fieldsets

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self._telemetry_fields(request, obj))

    @admin.display(description=_("latest report"))
    def telemetry_status(self, customer: Customer):
        status = ServerStatus.objects.filter(customer=customer).first()
        if status is None:
            return _("Its server has not reported yet.")
        status.customer = customer  # compare with the registry row on this page
        label = {field.name: capfirst(field.verbose_name) for field in ServerStatus._meta.fields}
        rows = [
            (label["name"], display_value(status.name)),
            (label["mac"], flagged(status.mac, status.mac_mismatch, customer.mac)),
            (label["ip"], display_value(status.ip)),
            (
                label["timeout"],
                flagged(display_value(status.timeout), status.timeout_mismatch, display_value(customer.timeout)),
            ),
            (label["count"], display_value(status.count)),
            (label["updatetimes"], display_value(status.updatetimes)),
            (label["reported_at"], display_value(status.reported_at)),
            (label["sender_address"], display_value(status.sender_address)),
            (label["first_reported_at"], display_value(status.first_reported_at)),
            (label["reports"], display_value(status.reports)),
        ]
        return format_html(
            '<table class="telemetry-status"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("IM users"))
    def telemetry_users(self, customer: Customer):
        count = customer.im_users.count()
        text = ngettext("%(count)d user", "%(count)d users", count) % {"count": count}
        return _changelist_link(ImUser, customer, text)

    @admin.display(description=_("IM groups"))
    def telemetry_groups(self, customer: Customer):
        count = customer.im_groups.count()
        text = ngettext("%(count)d group", "%(count)d groups", count) % {"count": count}
        return _changelist_link(ImGroup, customer, text)

    @admin.display(description=_("server reports"))
    def telemetry_reports(self, customer: Customer):
        return _changelist_link(ServerReport, customer, _("report history"))

    @admin.display(description=_("last 90 days"))
    def telemetry_activity(self, customer: Customer):
        first_day, last_day, days = customer_daily_figures(customer=customer, days=90)
        empty = _("No reports in the last 90 days")
        summary = _("latest (%(day)s): %(latest)s · highest: %(highest)s")
        charts = [
            daily_chart(
                kind="line",
                values=[(day.day, day.users) for day in days],
                first_day=first_day,
                last_day=last_day,
                labels=Labels(
                    title=_("Users reported by the server (highest of each day)"),
                    x_axis=_("date"),
                    y_axis=pgettext_lazy("number of", "users"),
                    tooltip=_("%(day)s: %(value)s users"),
                    empty=empty,
                    summary=summary,
                ),
                chart_id="customer-users",
            ),
            daily_chart(
                kind="line",
                values=[(day.day, day.updates) for day in days],
                first_day=first_day,
                last_day=last_day,
                labels=Labels(
                    title=_("Address-book updates reported by the server (highest of each day)"),
                    x_axis=_("date"),
                    y_axis=_("updates"),
                    tooltip=_("%(day)s: %(value)s address-book updates"),
                    empty=empty,
                    summary=summary,
                ),
                chart_id="customer-updates",
            ),
            daily_chart(
                kind="bar",
                values=list(
                    customer.usage_days.filter(day__gte=first_day, day__lte=last_day).values_list("day", "fmsgs")
                ),
                first_day=first_day,
                last_day=last_day,
                labels=Labels(
                    title=_("Messages sent by the customer's users (total as of each day's last user report)"),
                    x_axis=_("date"),
                    y_axis=_("messages"),
                    tooltip=_("%(day)s: %(value)s messages sent"),
                    empty=_("No user reports in the last 90 days"),
                    summary=summary,
                ),
                chart_id="customer-messages",
            ),
        ]
        return format_html_join("", '<div class="zw-chart-box">{}</div>', ((chart,) for chart in charts))

    @admin.display(description=_("server changes"))
    def telemetry_changes(self, customer: Customer):
        changes = list(customer.server_changes.all()[:10])
        if not changes:
            return _("Its server has always reported the same name, MAC and IP.")
        rows = [
            (
                display_value(change.changed_at),
                change.get_field_display(),
                change.old_value or "—",
                change.new_value or "—",
            )
            for change in changes
        ]
        return format_html(
            '<table class="telemetry-status"><tbody>{}</tbody></table>{}',
            format_html_join("", "<tr><td>{}</td><th>{}</th><td>{} → {}</td></tr>", rows),
            _changelist_link(ServerChange, customer, _("all server changes")),
        )


@admin.register(Customer)
class CustomerConsoleAdmin(CustomerTelemetryAdminMixin, CustomerAdmin):
    list_display = (
        "code",
        "name",
        "licence",
        "reporting",
        "endpoints",
        "contact",
        "ctel",
        "service_engineer",
        "registry_state",
    )
    list_filter = (
        RegistryStateFilter,
        LicenceStateFilter,
        ReportingStateFilter,
        MismatchFilter,
        ("timeout", DateRangeFilterBuilder(title=_("licence expiry"))),
        ("server_status__reported_at", DateRangeFilterBuilder(title=_("last report"))),
        "service_engineer",
    )
    list_select_related = ("server_status",)  # the reporting column, in the page's one query

    @admin.display(description=_("last report"), ordering="server_status__reported_at")
    def reporting(self, customer: Customer):
        status = getattr(customer, "server_status", None)  # selected with the page (list_select_related)
        state = reporting_state(status.reported_at if status else None)
        if status is None:
            return format_html('<span style="color:{}">● {}</span>', state.tone.colour, state.label)
        exact = f"{timezone.localtime(status.reported_at):%Y-%m-%d %H:%M:%S}"
        flags = [
            (_("MAC differs from the registry"), status.mac_mismatch),
            (_("licence expiry differs from the registry"), status.timeout_mismatch),
        ]
        return format_html(
            '<span style="color:{};font-weight:bold" title="{}">● {}</span><br><span title="{}">{}</span>{}',
            state.tone.colour,
            exact,
            state.label,
            exact,
            naturaltime(status.reported_at),
            format_html_join(
                "",
                '<br><span style="color:{}">⚠ {}</span>',
                [(MISMATCH_TONE.colour, text) for text, flag in flags if flag],
            ),
        )
