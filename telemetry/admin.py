"""The operators' console for what deployed servers report.

Read only: only the servers write telemetry (through the commit endpoints), so the
console may view it but never add, change or delete it. The tables are big (every
user of every customer), hence ``show_full_result_count = False`` and a customer
filter that searches rather than lists thousands of customers.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ERROR_FLAG, PAGE_VAR
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from customers.models import Customer
from zwadmin.charts import Labels, daily_chart
from zwadmin.dashboard import customer_daily_figures
from zwadmin.exports import ExportAdminMixin

from .models import ImGroup, ImUser, ServerChange, ServerReport, ServerStatus, UnregisteredServer
from .resources import ImGroupResource, ImUserResource

MISMATCH_STYLE = "color:#c62828;font-weight:bold"
CUSTOMER_LOOKUP = "customer__id__exact"  # what CustomerAutocompleteFilter reads, and what links to a list set


class CustomerAutocompleteFilter(admin.RelatedFieldListFilter):
    """Filter by customer through the admin's own autocomplete (select2 over CustomerAdmin's search).

    A plain related filter would list every customer in the sidebar, and there are thousands.
    Django 5.2 has no autocomplete list filter, and django-admin-autocomplete-filter, the
    package that adds one, has had no release since 0.7.1 (2021), before Django 5.0 made list
    filter parameters lists; this is the same idea in a few lines, on Django's own widget.
    """

    template = "admin/telemetry/customer_autocomplete_filter.html"

    def field_choices(self, field, request, model_admin):
        return []  # the widget asks the autocomplete view as the operator types

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        # The widget's empty choice ("all customers") may arrive as an empty value: no filter then.
        chosen = [value for value in self.used_parameters.pop(self.lookup_kwarg, []) if value]
        if chosen:
            self.used_parameters[self.lookup_kwarg] = chosen
        return super().queryset(request, queryset)

    def choices(self, changelist):
        selected = [value for value in self.lookup_val or [] if value]
        # The form field hands its widget a choice iterator, which renders the selected customer only.
        widget = forms.ModelChoiceField(
            queryset=Customer.objects.all(),
            widget=AutocompleteSelect(self.field, changelist.model_admin.admin_site),
            required=False,
        ).widget
        leave_out = {self.lookup_kwarg, self.lookup_kwarg_isnull, PAGE_VAR, ERROR_FLAG}
        attrs = {"id": "customer-filter", "style": "width: 100%"}
        yield {
            "selected": not selected and not self.lookup_val_isnull,
            "query_string": changelist.get_query_string(remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]),
            "display": _("All"),
            "widget": widget.render(self.lookup_kwarg, selected[-1] if selected else None, attrs),
            "hidden_params": [(name, value) for name, value in changelist.params.items() if name not in leave_out],
        }


class ReadOnlyAdmin(admin.ModelAdmin):
    """Telemetry is the servers' to write: view only, for everyone, superusers included."""

    show_full_result_count = False  # one count per page, not two, on tables of millions of rows
    show_facets = admin.ShowFacets.NEVER  # a count per choice, for no choice worth counting
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PerCustomerAdmin(ReadOnlyAdmin):
    """Rows that belong to a customer: filtered by customer with autocomplete, searched by its code and name."""

    list_filter = (("customer", CustomerAutocompleteFilter),)
    list_select_related = ("customer",)

    @property
    def media(self):
        autocomplete = AutocompleteSelect(self.model._meta.get_field("customer"), self.admin_site)
        # Naming jquery.init.js before our script keeps it after django.jQuery when the media are merged.
        ours = forms.Media(js=["admin/js/jquery.init.js", "telemetry/admin/customer_filter.js"])
        return super().media + autocomplete.media + ours


def _display(value):
    """A value as the admin shows one: local time, localized, a dash for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return formats.localize(value)


def flagged(value, mismatch: bool, registered):
    """``value`` in red with the registry's value beside it when they differ."""
    if not mismatch:
        return value or "—"
    return format_html(
        '<strong class="telemetry-mismatch" style="{}">{} ({})</strong>',
        MISMATCH_STYLE,
        value,
        _("registry: %(value)s") % {"value": registered},
    )


@admin.register(ServerReport)
class ServerReportAdmin(PerCustomerAdmin):
    list_display = (
        "reported_at",
        "customer",
        "name",
        "reported_mac",
        "ip",
        "reported_timeout",
        "count",
        "updatetimes",
        "sender_address",
    )
    search_fields = ("customer__code", "customer__name", "name", "mac", "ip")
    date_hierarchy = "reported_at"
    ordering = ("-reported_at",)

    @admin.display(description=_("reported MAC"), ordering="mac")
    def reported_mac(self, report: ServerReport):
        licensed = report.customer.mac
        return flagged(report.mac, bool(licensed and report.mac and report.mac != licensed), licensed)

    @admin.display(description=_("reported licence expiry"), ordering="timeout")
    def reported_timeout(self, report: ServerReport):
        registered = report.customer.timeout
        mismatch = bool(registered and report.timeout and report.timeout != registered)
        return flagged(_display(report.timeout), mismatch, _display(registered))


@admin.register(ServerChange)
class ServerChangeAdmin(PerCustomerAdmin):
    """The audit trail of what customers' servers say they are: reported name, MAC and IP changes."""

    list_display = ("changed_at", "customer", "field", "old_value", "new_value", "sender_address")
    list_filter = (("customer", CustomerAutocompleteFilter), "field")
    search_fields = ("customer__code", "customer__name", "old_value", "new_value")
    date_hierarchy = "changed_at"
    ordering = ("-changed_at",)


@admin.register(ImUser)
class ImUserAdmin(ExportAdminMixin, PerCustomerAdmin):
    resource_classes = [ImUserResource]
    list_display = ("nickname", "uuid", "customer", *ImUser.FIGURES, "last_reported_at")
    list_display_links = ("nickname", "uuid")
    search_fields = ("customer__code", "customer__name", "nickname", "uuid")
    date_hierarchy = "last_reported_at"


@admin.register(ImGroup)
class ImGroupAdmin(ExportAdminMixin, PerCustomerAdmin):
    resource_classes = [ImGroupResource]
    list_display = (
        "name",
        "gid",
        "customer",
        "creatername",
        "ucount",
        "msgcount",
        "fcount",
        "ncount",
        "ctime",
        "last_reported_at",
    )
    list_display_links = ("name", "gid")
    search_fields = ("customer__code", "customer__name", "name", "gid", "creatername")
    date_hierarchy = "last_reported_at"


class RegisteredFilter(admin.SimpleListFilter):
    """Whether the code has since been added to the registry (the dashboard counts only those still missing)."""

    title = _("registry")
    parameter_name = "registered"

    def lookups(self, request, model_admin):
        return [("no", _("not in the registry")), ("yes", _("in the registry since"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(registered=False)
        if self.value() == "yes":
            return queryset.filter(registered=True)
        return queryset


def customer_add_url(server: UnregisteredServer) -> str:
    """The customer add page pre-filled from what the server reported: the operator adds contact and endpoints."""
    prefill = {"code": server.code, "name": server.name, "mac": server.mac}
    return f"{reverse('admin:customers_customer_add')}?{urlencode({k: v for k, v in prefill.items() if v})}"


@admin.register(UnregisteredServer)
class UnregisteredServerAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "mac", "ip", "count", "sender_address", "first_seen_at", "last_seen_at", "reports")
    list_filter = (RegisteredFilter,)
    search_fields = ("code", "name", "mac", "ip")
    date_hierarchy = "last_seen_at"
    ordering = ("-last_seen_at",)
    actions = ("create_customer",)

    def get_queryset(self, request):
        registered = Exists(Customer.objects.filter(code=OuterRef("code")))  # removed customers included
        return super().get_queryset(request).annotate(registered=registered)

    def get_list_display(self, request):
        if self.has_create_customer_permission(request):  # beside the name, not past the table's right edge
            return (*self.list_display[:2], "registration", *self.list_display[2:])
        return self.list_display

    def has_create_customer_permission(self, request):
        return request.user.has_perm("customers.add_customer")

    @admin.display(description=_("customer"), ordering="registered")
    def registration(self, server: UnregisteredServer):
        if server.registered:
            url = reverse("admin:customers_customer_changelist")
            query = urlencode({"q": server.code, "registry": "all"})
            return format_html('<a href="{}?{}">{}</a>', url, query, _("in the registry"))
        return format_html('<a class="addlink" href="{}">{}</a>', customer_add_url(server), _("create customer"))

    @admin.action(description=_("Create the customer from the selected report"), permissions=["create_customer"])
    def create_customer(self, request, queryset):
        servers = list(queryset[:2])
        if len(servers) != 1:
            self.message_user(request, _("Select exactly one unregistered server."), messages.WARNING)
            return None
        if servers[0].registered:
            self.message_user(request, _("This code is already in the registry."), messages.WARNING)
            return None
        return HttpResponseRedirect(customer_add_url(servers[0]))


def _changelist_link(model, customer: Customer, text):
    url = reverse(f"admin:telemetry_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode({CUSTOMER_LOOKUP: customer.pk}), text)


class CustomerTelemetryAdminMixin:
    """For CustomerAdmin: its change page shows what the customer's server last reported and links
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
            (label["name"], _display(status.name)),
            (label["mac"], flagged(status.mac, status.mac_mismatch, customer.mac)),
            (label["ip"], _display(status.ip)),
            (label["timeout"], flagged(_display(status.timeout), status.timeout_mismatch, _display(customer.timeout))),
            (label["count"], _display(status.count)),
            (label["updatetimes"], _display(status.updatetimes)),
            (label["reported_at"], _display(status.reported_at)),
            (label["sender_address"], _display(status.sender_address)),
            (label["first_reported_at"], _display(status.first_reported_at)),
            (label["reports"], _display(status.reports)),
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
            (_display(change.changed_at), change.get_field_display(), change.old_value or "—", change.new_value or "—")
            for change in changes
        ]
        return format_html(
            '<table class="telemetry-status"><tbody>{}</tbody></table>{}',
            format_html_join("", "<tr><td>{}</td><th>{}</th><td>{} → {}</td></tr>", rows),
            _changelist_link(ServerChange, customer, _("all server changes")),
        )
