"""The customer as the console shows it: the registry (``customers.admin.CustomerAdmin``) and, beside it,
what the customer's server reports (``telemetry``): the reporting state and mismatch columns and filters,
and on the customer's page a status header (licence, reporting, every mismatch, ingest key) and tabs: 概况 (the
registry's fields and the 90-day charts), 服务器上报, 用户, 群组, 变更 (the server's name/MAC/IP changes), 历史.

The registry app sits below telemetry and cannot import it, so the composition is registered here. The staff
pages (``console.accounts``) are registered here too.
"""

import datetime

from django.contrib import admin
from django.db.models import F, Window
from django.db.models.functions import Lag
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.datasets import BaseDataset

from customers.admin import CustomerAdmin, LicenceStateFilter, RegistryStateFilter
from customers.models import Customer
from telemetry.admin import CUSTOMER_LOOKUP, ReadOnlyAdmin
from telemetry.models import ImGroup, ImUser, ServerChange, ServerReport
from telemetry.states import (
    MISMATCH_CONDITIONS,
    REPORTED_LAST_DAY,
    Mismatch,
    ReportingState,
    reporting_condition,
    reporting_state,
    silent_after,
)
from zwadmin.audit import REMOVAL_FIELD, audit_event
from zwadmin.charts import Labels, daily_chart
from zwadmin.display import display_value, relative_time

from . import accounts  # noqa: F401 - registers the staff, role, token and login-record pages
from .dashboard import customer_daily_figures, trouble_condition
from .status import customer_status


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


class AttentionFilter(admin.SimpleListFilter):
    """Every customer the dashboard's 需要处理 table counts (``console.dashboard.trouble_condition``)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", _("needs attention"))]

    def queryset(self, request, queryset):
        return queryset.filter(trouble_condition(timezone.now())) if self.value() == "yes" else queryset


class LastReportFilter(RangeDateFilter):
    """The latest report's day, from and to both included, as local days (China time): the theme's own filter
    compares the date-time column with bare dates, which the database reads as naive midnights."""

    def queryset(self, request, queryset):
        bounds = {}
        for side, lookup, days_after in (("from", "gte", 0), ("to", "lt", 1)):
            value = self.used_parameters.get(f"{self.parameter_name}_{side}")
            if not isinstance(value, str) or not value:
                continue
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                return None  # not a date: no filter, as the theme does (its form marks the field)
            midnight = datetime.datetime.combine(day + datetime.timedelta(days=days_after), datetime.time.min)
            bounds[f"{self.parameter_name}__{lookup}"] = timezone.make_aware(midnight)
        return queryset.filter(**bounds)


def changelist_url(model, customer: Customer) -> str:
    url = reverse(f"admin:telemetry_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode({CUSTOMER_LOOKUP: customer.pk})}"


# The customer page's tabs: each a read-only list of the customer's rows (django-unfold's datasets).


class CustomerRowsAdmin(ReadOnlyAdmin):
    """One tab of the customer's page: the rows of one customer, newest first, no customer column."""

    list_per_page = 20
    actions = None

    def get_queryset(self, request):
        customer = (getattr(self, "extra_context", None) or {}).get("object")
        return super().get_queryset(request).filter(customer_id=customer)


class CustomerReportsAdmin(CustomerRowsAdmin):
    list_display = ("reported_at", "name", "mac", "ip", "timeout", "count", "updatetimes", "sender_address")
    ordering = ("-reported_at",)


class CustomerUsersAdmin(CustomerRowsAdmin):
    list_display = ("nickname", "uuid", "fmsgs", "tmsgs", "onlinetime", "last_reported_at")
    search_fields = ("nickname", "uuid")
    ordering = ("nickname",)


class CustomerGroupsAdmin(CustomerRowsAdmin):
    list_display = ("name", "gid", "creatername", "ucount", "msgcount", "last_reported_at")
    search_fields = ("name", "gid", "creatername")
    ordering = ("name",)


class CustomerChangesAdmin(CustomerRowsAdmin):
    list_display = ("changed_at", "field", "old_value", "new_value", "sender_address")
    ordering = ("-changed_at", "-id")


class CustomerHistoryAdmin(CustomerRowsAdmin):
    """The customer's audit trail: each save named (added, changed, removed, restored), who, when, why."""

    list_display = ("history_date", "event", "history_user", "history_change_reason")
    list_display_links = None  # the full history page shows each change, old → new
    ordering = ("-history_date", "-history_id")

    def get_queryset(self, request):
        customer = (getattr(self, "extra_context", None) or {}).get("object")
        previous = Window(Lag(REMOVAL_FIELD), partition_by=[F("id")], order_by=[F("history_date"), F("history_id")])
        return self.model.objects.filter(id=customer).select_related("history_user").annotate(previous_removal=previous)

    @admin.display(description=_("event"))
    def event(self, record):
        return audit_event(record, record.previous_removal)


def customer_tab(model_admin, model, title, permission):
    """A tab of the customer's page listing ``model_admin``'s rows, for staff holding ``permission``."""
    return type(
        f"{model.__name__}Tab",
        (BaseDataset,),
        {"model": model, "model_admin": model_admin, "tab": True, "title": title, "permission": permission},
    )


CUSTOMER_TABS = [
    customer_tab(CustomerReportsAdmin, ServerReport, _("Server reports"), "telemetry.view_serverreport"),
    customer_tab(CustomerUsersAdmin, ImUser, pgettext_lazy("tab", "Users"), "telemetry.view_imuser"),
    customer_tab(CustomerGroupsAdmin, ImGroup, pgettext_lazy("tab", "Groups"), "telemetry.view_imgroup"),
    customer_tab(CustomerChangesAdmin, ServerChange, pgettext_lazy("tab", "Changes"), "telemetry.view_serverchange"),
    customer_tab(
        CustomerHistoryAdmin, Customer.history.model, pgettext_lazy("tab", "History"), "customers.view_customer"
    ),
]


class CustomerTelemetryAdminMixin:
    """For the customer's admin: the status header, the tabs of what its server reported (each for operators
    allowed to view it), and in the first tab the 90-day charts.

    Read-only fields and datasets rather than inlines: an inline's formset would have to be posted back with
    every save of the customer form, though there is nothing in it to save.
    """

    change_form_outer_before_template = "console/customer_status.html"

    def get_changeform_datasets(self, request):
        if "/change/" not in request.path:  # the add page: nothing reported yet
            return []
        return [tab for tab in CUSTOMER_TABS if request.user.has_perm(tab.permission)]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not request.user.has_perm("telemetry.view_serverreport"):
            return fieldsets
        return [*fieldsets, (_("Last 90 days"), {"fields": ("telemetry_activity",)})]

    def get_readonly_fields(self, request, obj=None):
        extra = ("telemetry_activity",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *extra)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["status"] = customer_status(customer=obj, user=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("charts"))
    def telemetry_activity(self, customer: Customer):
        today = timezone.localdate()
        first_day, last_day, days = customer_daily_figures(customer=customer, days=90)
        empty = _("No reports in the last 90 days")
        highest = _("highest of %(day)s: %(latest)s · highest in 90 days: %(highest)s")
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
                    summary=highest,
                ),
                chart_id="customer-users",
                partial_day=today,
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
                    summary=highest,
                ),
                chart_id="customer-updates",
                partial_day=today,
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
                    summary=_("total as of %(day)s: %(latest)s · highest: %(highest)s"),
                ),
                chart_id="customer-messages",
                partial_day=today,
            ),
        ]
        return format_html_join("", '<div class="zw-chart-box">{}</div>', ((chart,) for chart in charts))


@admin.register(Customer)
class CustomerConsoleAdmin(CustomerTelemetryAdminMixin, CustomerAdmin):
    list_display = (
        "code",
        "name",
        "licence",
        "reporting",
        "endpoints",
        "contact_with_phone",
        "users_and_groups",
    )
    list_filter = (
        RegistryStateFilter,
        AttentionFilter,
        LicenceStateFilter,
        ReportingStateFilter,
        MismatchFilter,
        ("timeout", RangeDateFilter),
        ("server_status__reported_at", LastReportFilter),
        "service_engineer",
    )
    list_select_related = ("server_status",)  # the reporting column, in the page's one query

    @admin.display(description=_("last report"), ordering="server_status__reported_at")
    def reporting(self, customer: Customer):
        status = getattr(customer, "server_status", None)  # selected with the page (list_select_related)
        state = reporting_state(status.reported_at if status else None)
        if status is None:
            return format_html('<span class="zw-state zw-tone-{}">{}</span>', state.tone, state.label)
        exact = display_value(status.reported_at)
        flags = [
            str(text)
            for text, flag in (
                (_("MAC differs from the registry"), status.mac_mismatch),
                (_("licence expiry differs from the registry"), status.timeout_mismatch),
            )
            if flag
        ]
        flag = (
            format_html(' <span class="zw-flag zw-tone-danger" title="{}">⚠ {}</span>', "; ".join(flags), _("differs"))
            if flags
            else ""
        )
        return format_html(
            '<span class="zw-state zw-tone-{}" title="{}">{}</span> <span class="zw-quiet" title="{}">{}</span>{}',
            state.tone,
            exact,
            state.label,
            exact,
            relative_time(status.reported_at),
            flag,
        )

    @admin.display(description=_("IM users and groups"))
    def users_and_groups(self, customer: Customer):
        """Links to the customer's users (with the count its server last reported) and groups, as icons."""
        status = getattr(customer, "server_status", None)
        count = status.count if status else 0
        users = ngettext("%(count)s user", "%(count)s users", count) % {"count": display_value(count)}
        return format_html(
            '<a class="zw-nowrap zw-icon-link" href="{}" title="{}" aria-label="{}">'
            '<span class="material-symbols-outlined" aria-hidden="true">person</span>{}</a> '
            '<a class="zw-icon-link" href="{}" title="{}" aria-label="{}">'
            '<span class="material-symbols-outlined" aria-hidden="true">groups</span></a>',
            changelist_url(ImUser, customer),
            users,
            users,
            display_value(count),
            changelist_url(ImGroup, customer),
            _("IM groups"),
            _("IM groups"),
        )

    def removal_impact(self, customers):
        pks = set(
            Customer.objects.filter(pk__in=[customer.pk for customer in customers])
            .filter(reporting_condition(REPORTED_LAST_DAY))
            .values_list("pk", flat=True)
        )
        return {"reported_last_day": len(pks), "reporting_pks": pks}
