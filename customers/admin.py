"""The operators' console for the customer registry.

Every write goes through ``customers.services`` so the admin and the API share
validation and the lookup-cache refresh. "Delete" in the admin is the
document's removal (删除客户): soft, and undone by the restore action.
"""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Customer, LicenceState

LICENCE_COLOURS = {
    LicenceState.OK: "#2e7d32",
    LicenceState.EXPIRING: "#ef6c00",
    LicenceState.EXPIRED: "#c62828",
    LicenceState.UNKNOWN: "#757575",
}


class RegistryStateFilter(admin.SimpleListFilter):
    """Shows the customers in the registry unless the operator asks for the removed ones."""

    title = _("registry")
    parameter_name = "registry"

    def lookups(self, request, model_admin):
        return [("removed", _("removed")), ("all", _("all, removed included"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("in the registry"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "removed":
            return queryset.removed()
        if self.value() == "all":
            return queryset
        return queryset.active()


class LicenceStateFilter(admin.SimpleListFilter):
    title = _("licence")
    parameter_name = "licence"

    def lookups(self, request, model_admin):
        return LicenceState.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.with_licence_state(self.value())
        return queryset


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "licence", "endpoints", "contact", "ctel", "server", "registry_state")
    list_display_links = ("code", "name")
    list_filter = (RegistryStateFilter, LicenceStateFilter, "server")
    search_fields = ("code", "name", "contact", "ctel")
    ordering = ("code",)
    list_per_page = 50
    actions = ("remove_selected", "restore_selected")
    readonly_fields = ("id", "created_at", "updated_at", "removed_at")
    fieldsets = (
        (_("Identity"), {"fields": ("code", "name", "mac")}),
        (
            _("Endpoints"),
            {
                "description": _("The public addresses IM clients connect to, as returned by /api/customer/info."),
                "fields": (("tcphost", "tcpport"), ("webhost", "webport"), ("filehost", "fileport")),
            },
        ),
        (_("Licence"), {"fields": ("timeout",)}),
        (_("Contact"), {"fields": ("contact", "ctel", "server")}),
        (_("Record"), {"classes": ("collapse",), "fields": ("id", "created_at", "updated_at", "removed_at")}),
    )

    @admin.display(description=_("licence expiry"), ordering="timeout")
    def licence(self, customer: Customer):
        state = customer.licence_state()
        return format_html(
            '<span style="color:{};font-weight:bold" title="{}">● {}</span>',
            LICENCE_COLOURS[state],
            state.label,
            customer.timeout or state.label,
        )

    @admin.display(description=_("endpoints"))
    def endpoints(self, customer: Customer):
        parts = [
            (label, host, port)
            for label, host, port in (
                ("TCP", customer.tcphost, customer.tcpport),
                ("WEB", customer.webhost, customer.webport),
                ("FILE", customer.filehost, customer.fileport),
            )
            if host
        ]
        if not parts:
            return "—"
        return format_html("<br>".join(["{} {}:{}"] * len(parts)), *[value or "" for part in parts for value in part])

    @admin.display(description=_("in registry"), boolean=True)
    def registry_state(self, customer: Customer):
        return not customer.is_removed

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a hard delete would lose the customer's history
        if not self.has_delete_permission(request):
            actions.pop("remove_selected", None)
            actions.pop("restore_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change:
            changed = {field: form.cleaned_data[field] for field in form.changed_data if field in form.cleaned_data}
            services.customer_update(customer=obj, data=changed)
        else:
            created = services.customer_create(
                **{field: getattr(obj, field) for field in services.EDITABLE_FIELDS},
            )
            obj.__dict__.update(created.__dict__)  # the admin logs and redirects with the saved instance

    def delete_model(self, request, obj):
        services.customer_remove(customer=obj)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            services.customer_remove(customer=customer)

    def get_deleted_objects(self, objs, request):
        # Removal is soft: nothing else is deleted, so the confirmation lists only the customers.
        objs = list(objs)
        return [str(obj) for obj in objs], {Customer._meta.verbose_name_plural: len(objs)}, set(), []

    @admin.action(description=_("Remove selected customers from the registry"), permissions=["delete"])
    def remove_selected(self, request, queryset):
        customers = list(queryset.active())
        for customer in customers:
            services.customer_remove(customer=customer)
        self.message_user(
            request,
            ngettext("Removed %d customer.", "Removed %d customers.", len(customers)) % len(customers),
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected customers to the registry"), permissions=["delete"])
    def restore_selected(self, request, queryset):
        customers = list(queryset.removed())
        for customer in customers:
            services.customer_restore(customer=customer)
        self.message_user(
            request,
            ngettext("Restored %d customer.", "Restored %d customers.", len(customers)) % len(customers),
            messages.SUCCESS,
        )
