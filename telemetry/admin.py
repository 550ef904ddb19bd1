"""The operators' console for what deployed servers report.

Read only: only the servers write telemetry (through the commit endpoints), so the
console may view it but never add, change or delete it. The tables are big (every
user of every customer: millions of rows), hence ``zwadmin.lists`` (no count of the whole table, a date
drill-down from the date's index), an index for each list's default order and filter, a search that looks the
customer up in the registry first (``PerCustomerAdmin.get_search_results``), and a customer filter that searches
rather than lists thousands of customers (the theme's autocomplete filter over the customer admin's search).
"""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import AutocompleteSelectFilter

from customers.models import Customer
from zwadmin.admin_lists import ConsoleListMixin
from zwadmin.display import display_value
from zwadmin.exports import ExportAdminMixin
from zwadmin.lists import LargeTableAdminMixin

from .models import ImGroup, ImUser, ServerChange, ServerReport, UnregisteredServer
from .resources import ImGroupResource, ImUserResource
from .states import MISMATCH_TONE, differs

MISMATCH_STYLE = f"color:{MISMATCH_TONE.colour};font-weight:bold"
CUSTOMER_LOOKUP = "customer__id__exact"  # what the customer filter reads, and what links to a list set
# A search term found in more customers' codes or names than this is no longer looked for by their ids.
CUSTOMER_IDS_SEARCHED = 500


class ReadOnlyAdmin(ConsoleListMixin, LargeTableAdminMixin, ModelAdmin):
    """Telemetry is the servers' to write: view only, for everyone, superusers included."""

    show_facets = admin.ShowFacets.NEVER  # a count per choice, for no choice worth counting
    list_per_page = 50  # the theme renders a row in a few milliseconds: 100 rows were most of a page's time

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PerCustomerAdmin(ReadOnlyAdmin):
    """Rows that belong to a customer: filtered by customer with autocomplete, searched by its code and name.
    The customer column is its code and name cut to fit, the whole on hover: the lists fit the screen."""

    list_filter = (("customer", AutocompleteSelectFilter),)
    list_filter_submit = True  # the autocomplete filter applies with the filter panel's button
    list_select_related = ("customer",)

    def get_search_results(self, request, queryset, search_term):
        """Django's search (every term in some field, ``icontains``), with the customer's code and name looked up
        in the registry first: the rows' own query is then ``customer_id IN (…) OR name ILIKE …``, which PostgreSQL
        answers from the indexes (the customer's, and the trigram index of each searched column) instead of
        scanning every row joined to its customer."""
        fields = self.get_search_fields(request)
        customer_fields = [field.removeprefix("customer__") for field in fields if field.startswith("customer__")]
        own_fields = [field for field in fields if not field.startswith("customer__")]
        if not search_term or not customer_fields:
            return super().get_search_results(request, queryset, search_term)
        terms = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            condition = Q.create([(f"{field}__icontains", bit) for field in own_fields], connector=Q.OR)
            customers = Customer.objects.filter(
                Q.create([(f"{field}__icontains", bit) for field in customer_fields], connector=Q.OR)
            ).values_list("id", flat=True)
            ids = list(customers[: CUSTOMER_IDS_SEARCHED + 1])
            if len(ids) > CUSTOMER_IDS_SEARCHED:  # an unselective term: a subquery, read along the list's order
                condition |= Q(customer_id__in=customers)
            elif ids:
                condition |= Q(customer_id__in=ids)
            terms.append(condition)
        # The matching rows' ids first, at most the count's limit, read from the indexes (a bitmap of them); then
        # the page is those rows in the list's order. Asked at once, PostgreSQL walks the list's order index
        # hoping to meet the few matches early, through millions of rows (13 s for a customer's code among 10M
        # reports). A term matching more rows than the limit is frequent enough for that walk to be short.
        matching = queryset.filter(*terms)
        limit = self.paginator.search_count_limit
        found = list(matching.order_by().values_list("pk", flat=True)[: limit + 1])
        if len(found) <= limit:
            return queryset.filter(pk__in=found), False
        return matching, False

    @admin.display(description=_("customer"), ordering="customer__code")
    def customer_name(self, row):
        text = str(row.customer)
        return format_html('<span class="zw-ellipsis zw-narrow" title="{}">{}</span>', text, text)


def flagged(value, mismatch: bool, registered):
    """``value``, in red with a warning sign when it differs from the registry's (the registry's value on hover)."""
    if not mismatch:
        return value or "—"
    return format_html(
        '<strong class="telemetry-mismatch" style="{}" title="{}">⚠ {}</strong>',
        MISMATCH_STYLE,
        _("registry: %(value)s") % {"value": registered},
        value,
    )


@admin.register(ServerReport)
class ServerReportAdmin(PerCustomerAdmin):
    list_display = (
        "reported_at",
        "customer_name",
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
        return flagged(report.mac, differs(licensed, report.mac), licensed)

    @admin.display(description=_("reported licence expiry"), ordering="timeout")
    def reported_timeout(self, report: ServerReport):
        registered = report.customer.timeout
        return flagged(display_value(report.timeout), differs(registered, report.timeout), display_value(registered))


@admin.register(ServerChange)
class ServerChangeAdmin(PerCustomerAdmin):
    """The audit trail of what customers' servers say they are: reported name, MAC and IP changes."""

    list_display = ("changed_at", "customer_name", "field", "old_value", "new_value", "sender_address")
    list_filter = (("customer", AutocompleteSelectFilter), "field")
    search_fields = ("customer__code", "customer__name", "old_value", "new_value")
    date_hierarchy = "changed_at"
    ordering = ("-changed_at", "-id")  # the index of the same order


@admin.register(ImUser)
class ImUserAdmin(ExportAdminMixin, PerCustomerAdmin):
    resource_classes = [ImUserResource]
    list_display = (
        "nickname",
        "uuid",
        "customer_name",
        "onlinetime",
        "andtimes",
        "pctimes",
        "ios_times",
        "fmsgs",
        "tmsgs",
        "last_reported_at",
    )
    list_display_links = ("nickname", "uuid")
    search_fields = ("customer__code", "customer__name", "nickname", "uuid")
    # Grouped by customer, as the model orders them, but by the customer's id rather than its code: the
    # (customer, uuid) index is the order, no join and sort of millions of rows. No date drill-down: no index
    # of the last report's time alone (one more index to update with each of a batch's rows).
    ordering = ("customer_id", "uuid")

    @admin.display(description=_("iOS online time"), ordering="iostimes")
    def ios_times(self, user: ImUser):
        return display_value(user.iostimes)  # a header of its own: the admin would write the field's "IOS …"


@admin.register(ImGroup)
class ImGroupAdmin(ExportAdminMixin, PerCustomerAdmin):
    resource_classes = [ImGroupResource]
    list_display = (
        "name",
        "gid",
        "customer_name",
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
    ordering = ("customer_id", "gid")  # the (customer, gid) index, as the user list; no date drill-down either


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
