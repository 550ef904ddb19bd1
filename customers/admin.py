"""The operators' console for the customer registry: ``CustomerAdmin``, the registry's own part.

Every write goes through ``customers.services`` so the admin and the API share
validation and the lookup-cache refresh. "Delete" in the admin is the
document's removal (删除客户): soft, and undone by the restore action.

Not registered here: the console registers it with what the customers' servers report beside it
(``console.admin.CustomerConsoleAdmin``), which this app, below telemetry, cannot import.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rangefilter.filters import DateRangeFilterBuilder

from zwadmin.audit import AuditTrailAdmin
from zwadmin.exports import ExportAdminMixin

from . import services
from .licence import LicenceState
from .models import Customer
from .resources import CustomerResource


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


class CustomerAdmin(ExportAdminMixin, AuditTrailAdmin):
    resource_classes = [CustomerResource]  # export: CSV, XLSX; the history page: who changed what, old → new
    list_display = ("code", "name", "licence", "endpoints", "contact", "ctel", "service_engineer", "registry_state")
    list_display_links = ("code", "name")
    list_filter = (
        RegistryStateFilter,
        LicenceStateFilter,
        ("timeout", DateRangeFilterBuilder(title=_("licence expiry"))),
        "service_engineer",
    )
    show_facets = admin.ShowFacets.ALWAYS  # a few thousand customers: counting each choice is cheap
    search_fields = ("code", "name", "contact", "ctel")
    ordering = ("code",)
    list_per_page = 50
    actions = ("remove_selected", "restore_selected", "rotate_ingest_key", "require_ingest_key", "waive_ingest_key")
    readonly_fields = ("id", "created_at", "updated_at", "removed_at", "ingest_key_state")
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
        (_("Contact"), {"fields": ("contact", "ctel", "service_engineer")}),
        (
            _("Server authentication"),
            {
                "description": _("Change it with the actions of the customer list: generate a key, require it."),
                "fields": ("ingest_key_state",),
            },
        ),
        (_("Record"), {"classes": ("collapse",), "fields": ("id", "created_at", "updated_at", "removed_at")}),
    )

    @admin.display(description=_("licence expiry"), ordering="timeout")
    def licence(self, customer: Customer):
        state = customer.licence_state()
        return format_html(
            '<span style="color:{};font-weight:bold" title="{}">● {}</span>',
            state.tone.colour,
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
            services.customer_update(customer=obj, data=changed, by=request.user)
        else:
            created = services.customer_create(
                **{field: getattr(obj, field) for field in services.EDITABLE_FIELDS}, by=request.user
            )
            obj.__dict__.update(created.__dict__)  # the admin logs and redirects with the saved instance

    def delete_model(self, request, obj):
        services.customer_remove(customer=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            services.customer_remove(customer=customer, by=request.user)

    def get_deleted_objects(self, objs, request):
        # Removal is soft: nothing else is deleted, so the confirmation lists only the customers.
        objs = list(objs)
        return [str(obj) for obj in objs], {Customer._meta.verbose_name_plural: len(objs)}, set(), []

    @admin.action(description=_("Remove selected customers from the registry"), permissions=["delete"])
    def remove_selected(self, request, queryset):
        customers = list(queryset.active())
        for customer in customers:
            services.customer_remove(customer=customer, by=request.user)
        self.message_user(
            request,
            ngettext("Removed %d customer.", "Removed %d customers.", len(customers)) % len(customers),
            messages.SUCCESS,
        )

    @admin.action(description=_("Restore selected customers to the registry"), permissions=["delete"])
    def restore_selected(self, request, queryset):
        customers = list(queryset.removed())
        for customer in customers:
            services.customer_restore(customer=customer, by=request.user)
        self.message_user(
            request,
            ngettext("Restored %d customer.", "Restored %d customers.", len(customers)) % len(customers),
            messages.SUCCESS,
        )

    # Ingest keys (docs/operations.md "Ingest keys"): operations only (change permission), through the services.

    @admin.display(description=_("ingest key"))
    def ingest_key_state(self, customer: Customer):
        if not customer.ingest_key_hash:
            return _("none: reports are accepted without a key")
        rotated_at = customer.ingest_key_rotated_at
        generated = f"{timezone.localtime(rotated_at):%Y-%m-%d %H:%M}" if rotated_at else "—"
        if customer.ingest_key_required:
            return _("generated %(when)s; required: reports without it are refused") % {"when": generated}
        return _("generated %(when)s; not required yet") % {"when": generated}

    @admin.action(description=_("Generate a new ingest key (shown once)"), permissions=["change"])
    def rotate_ingest_key(self, request, queryset):
        keys = [
            (customer, services.customer_ingest_key_rotate(customer=customer, by=request.user))
            for customer in queryset.active()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New ingest keys"),
            "keys": keys,
        }
        return TemplateResponse(request, "admin/customers/customer/ingest_keys.html", context)

    @admin.action(description=_("Require the ingest key on reports"), permissions=["change"])
    def require_ingest_key(self, request, queryset):
        required, keyless = [], []
        for customer in queryset.active():
            try:
                services.customer_ingest_key_require(customer=customer, required=True, by=request.user)
            except ValidationError:
                keyless.append(customer.code)
            else:
                required.append(customer.code)
        if required:
            self.message_user(
                request,
                ngettext(
                    "%(count)d customer's reports must now carry its ingest key: %(codes)s.",
                    "%(count)d customers' reports must now carry their ingest keys: %(codes)s.",
                    len(required),
                )
                % {"count": len(required), "codes": ", ".join(required)},
                messages.SUCCESS,
            )
        if keyless:
            self.message_user(
                request,
                _("No ingest key to require yet (generate one first): %(codes)s.") % {"codes": ", ".join(keyless)},
                messages.ERROR,
            )

    @admin.action(description=_("Stop requiring the ingest key"), permissions=["change"])
    def waive_ingest_key(self, request, queryset):
        customers = list(queryset.filter(ingest_key_required=True))
        for customer in customers:
            services.customer_ingest_key_require(customer=customer, required=False, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%d customer's reports are accepted without its ingest key again.",
                "%d customers' reports are accepted without their ingest keys again.",
                len(customers),
            )
            % len(customers),
            messages.SUCCESS,
        )
