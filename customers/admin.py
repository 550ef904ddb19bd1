"""The operators' console for the customer registry: ``CustomerAdmin``, the registry's own part.

Every write goes through ``customers.services`` so the admin and the API share
validation and the lookup-cache refresh. "Delete" in the admin is the
document's removal (删除客户): soft, and undone by 恢复. Removal always asks first, on a page that names the
customers, says what it does to their IM clients and that it can be undone; removing more than
``TYPED_CONFIRMATION_ABOVE`` customers at once asks the operator to type how many. A removed customer's page
is read-only, says who removed it and when, and offers 恢复.

Not registered here: the console registers it with what the customers' servers report beside it
(``console.admin.CustomerConsoleAdmin``), which this app, below telemetry, cannot import.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.widgets import UnfoldAdminTextInputWidget

from zwadmin.admin_lists import ConsoleListMixin
from zwadmin.audit import AuditTrailAdmin
from zwadmin.display import ungrouped
from zwadmin.exports import ExportAdminMixin

from . import services
from .licence import LicenceState
from .models import Customer
from .resources import CustomerResource

# Removing more customers than this at once asks the operator to type their number.
TYPED_CONFIRMATION_ABOVE = 5
# The confirmation page names this many customers, then says how many more.
NAMED_ON_CONFIRMATION = 100
REASON_MAX_LENGTH = 100  # django-simple-history's history_change_reason column


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


def reason_field(label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("reason for the change"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_("Optional; kept in the customer's history."),
        widget=UnfoldAdminTextInputWidget,
    )


class CustomerForm(forms.ModelForm):
    """The customer's fields, and why the operator changes them (``history_change_reason``), if they say."""

    change_reason = reason_field()

    class Meta:
        model = Customer
        fields = services.EDITABLE_FIELDS


class RemovalForm(forms.Form):
    """The removal confirmation: an optional reason, and the number of customers typed when there are many."""

    reason = reason_field(_("reason for the removal"))
    typed_count = forms.CharField(
        label=_("number of customers to remove"), required=False, max_length=12, widget=UnfoldAdminTextInputWidget
    )

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.count = count
        if count <= TYPED_CONFIRMATION_ABOVE:
            del self.fields["typed_count"]
        else:
            self.fields["typed_count"].help_text = _(
                "You are removing more than %(limit)d customers at once: type %(count)d to confirm."
            ) % {"limit": TYPED_CONFIRMATION_ABOVE, "count": count}

    def clean_typed_count(self):
        typed = self.cleaned_data.get("typed_count", "").strip()
        if typed != str(self.count):
            raise ValidationError(
                _("Type %(count)d, the number of customers you are removing, to confirm."),
                code="count",
                params={"count": self.count},
            )
        return typed


class CustomerAdmin(ConsoleListMixin, ExportAdminMixin, AuditTrailAdmin):
    form = CustomerForm
    resource_classes = [CustomerResource]  # export: CSV, XLSX; the history page: who changed what, old → new
    list_display = ("code", "name", "licence", "endpoints", "contact_with_phone")
    list_display_links = ("code", "name")
    list_filter = (
        RegistryStateFilter,
        LicenceStateFilter,
        ("timeout", RangeDateFilter),
        "service_engineer",
    )
    list_filter_submit = True  # the date range applies with the filter panel's button
    # Counts beside each filter choice on request only (the filter panel's "show counts"): at 20,000 customers the
    # console's reporting and mismatch filters cost a scan each, most of the page's time (docs/performance.md).
    show_facets = admin.ShowFacets.ALLOW
    # Code, name, contact, phone, the licensed MAC and every host an IM client is sent to.
    search_fields = ("code", "name", "contact", "ctel", "mac", "tcphost", "webhost", "filehost")
    search_help_text = _("Code, name, contact, phone, MAC or host")
    ordering = ("code",)
    list_per_page = 50
    list_before_template = "admin/customers/customer/search_removed.html"
    actions = ("remove_selected", "restore_selected", "rotate_ingest_key", "require_ingest_key", "waive_ingest_key")
    readonly_fields = ("id", "created_at", "updated_at", "removed_at", "ingest_key_state")
    readonly_preprocess_fields = {port: ungrouped for port in ("tcpport", "webport", "fileport")}
    fieldsets = (
        (_("Identity"), {"fields": ("code", "name", "mac")}),
        (
            _("Endpoints"),
            {
                "description": _(
                    "The public addresses IM clients connect to, as returned by <code>/api/customer/info</code>."
                ),
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

    # The list.

    @admin.display(description=_("licence expiry"), ordering="timeout")
    def licence(self, customer: Customer):
        if customer.is_removed:  # listed with ?registry=removed or all: that matters more than its licence
            return format_html('<span class="zw-badge zw-tone-danger zw-removed">{}</span>', _("removed"))
        state = customer.licence_state()
        return format_html(
            '<span class="zw-state zw-tone-{}" title="{}">{}</span>',
            state.tone,
            state.label,
            customer.timeout or state.label,
        )

    @admin.display(description=_("endpoints"), ordering="tcphost")
    def endpoints(self, customer: Customer):
        """The hosts IM clients are sent to, on one line; each server's host and port on hover."""
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
        hosts = list(dict.fromkeys(host for _label, host, _port in parts))
        detail = " · ".join(f"{label} {host}:{port or ''}" for label, host, port in parts)
        return format_html('<span class="zw-ellipsis" title="{}">{}</span>', detail, ", ".join(hosts))

    @admin.display(description=_("contact person"), ordering="contact")
    def contact_with_phone(self, customer: Customer):
        text = " ".join(part for part in (customer.contact, customer.ctel) if part)
        return format_html('<span class="zw-ellipsis zw-narrow" title="{}">{}</span>', text, text) if text else "—"

    @admin.display(description=_("customer name"), ordering="name")
    def short_name(self, customer: Customer):
        return format_html('<span class="zw-ellipsis zw-narrow" title="{}">{}</span>', customer.name, customer.name)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a hard delete would lose the customer's history
        if not self.has_delete_permission(request):
            actions.pop("remove_selected", None)
            actions.pop("restore_selected", None)
        return actions

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and changelist.query and not request.GET.get(RegistryStateFilter.parameter_name):
            if changelist.result_count == 0:
                response.context_data["removed_matches"] = self._removed_matches(request, changelist.query)
        return response

    def _removed_matches(self, request, query: str) -> dict | None:
        """Removed customers the search would find: the list shows active customers only, and says so."""
        found, _duplicates = self.get_search_results(request, Customer.objects.removed(), query)
        count = found.count()
        if not count:
            return None
        url = reverse("admin:customers_customer_changelist")
        return {"count": count, "url": f"{url}?{urlencode({'registry': 'removed', 'q': query})}"}

    # The customer's page.

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        if self.has_change_permission(request, obj):
            return [*fieldsets, (_("Reason for the change"), {"fields": ("change_reason",)})]
        # Read-only (support, or a removed customer): no instructions for what cannot be done here.
        return [
            (name, {k: v for k, v in options.items() if k != "description" or name == _("Endpoints")})
            for name, options in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and not self.has_change_permission(request, obj):
            # A read-only page shows values, not the input hints of a form nobody can fill in here.
            kwargs["help_texts"] = {field.name: "" for field in Customer._meta.fields}
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None):
        # A removed customer's page is read-only: restore it first (its page says so and offers to).
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_removed)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_removed)

    def has_restore_permission(self, request) -> bool:
        return super().has_delete_permission(request)  # removing and restoring are one permission

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.is_removed:
            context["removal"] = self.removal_record(obj)
            context["can_restore"] = self.has_restore_permission(request)
            context["restore_url"] = reverse("admin:customers_customer_restore", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def removal_record(self, customer: Customer):
        """The audit-trail record of the customer's removal: who (``history_user``) and when."""
        return (
            customer.history.filter(removed_at__isnull=False)
            .select_related("history_user")
            .order_by("history_date")
            .only("history_date", "history_user", "history_change_reason", "removed_at")
            .filter(removed_at=customer.removed_at)
            .first()
        )

    def save_model(self, request, obj, form, change):
        if change:
            changed = {
                field: form.cleaned_data[field] for field in form.changed_data if field in services.EDITABLE_FIELDS
            }
            reason = form.cleaned_data.get("change_reason", "")
            services.customer_update(customer=obj, data=changed, by=request.user, reason=reason)
        else:
            created = services.customer_create(
                **{field: getattr(obj, field) for field in services.EDITABLE_FIELDS}, by=request.user
            )
            obj.__dict__.update(created.__dict__)  # the admin logs and redirects with the saved instance

    def get_urls(self):
        restore = self.admin_site.admin_view(self.restore_view)
        return [path("<path:object_id>/restore/", restore, name="customers_customer_restore"), *super().get_urls()]

    # Removal and restore: always confirmed, never a hard delete.

    def removal_impact(self, customers: list[Customer]) -> dict:
        """What removing ``customers`` stops that the confirmation should say; the console adds its telemetry."""
        return {}

    def delete_view(self, request, object_id, extra_context=None):
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404
        if not self.has_delete_permission(request, customer):
            raise PermissionDenied
        return self._confirm_removal(request, [customer], single=True)

    def _confirm_removal(self, request, customers: list[Customer], *, single: bool = False):
        """The removal confirmation page, or, once confirmed, the removal and a redirect to the list."""
        confirmed = request.method == "POST" and "confirm" in request.POST
        form = RemovalForm(request.POST if confirmed else None, count=len(customers))
        if confirmed and form.is_valid():
            for customer in customers:
                services.customer_remove(customer=customer, by=request.user, reason=form.cleaned_data["reason"])
            self.message_user(
                request,
                ngettext(
                    "Removed %(count)d customer: %(codes)s. It can be restored from the removed customers.",
                    "Removed %(count)d customers: %(codes)s. They can be restored from the removed customers.",
                    len(customers),
                )
                % {"count": len(customers), "codes": ", ".join(customer.code for customer in customers[:10])},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": ngettext(
                "Remove %(count)d customer from the registry?",
                "Remove %(count)d customers from the registry?",
                len(customers),
            )
            % {"count": len(customers)},
            "customers": customers[:NAMED_ON_CONFIRMATION],
            "more": max(len(customers) - NAMED_ON_CONFIRMATION, 0),
            "count": len(customers),
            "impact": self.removal_impact(customers),
            "form": form,
            "single": single,
            "action_name": "remove_selected",
            "changelist_url": reverse("admin:customers_customer_changelist"),
        }
        return TemplateResponse(request, "admin/customers/customer/remove_confirmation.html", context)

    @admin.action(description=_("Remove selected customers from the registry"), permissions=["delete"])
    def remove_selected(self, request, queryset):
        customers = list(queryset.active().order_by("code"))
        if not customers:
            self.message_user(request, _("The selected customers are removed already."), messages.WARNING)
            return None
        return self._confirm_removal(request, customers)

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

    def restore_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[object_id]))
        if not self.has_restore_permission(request):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404
        services.customer_restore(
            customer=customer, by=request.user, reason=request.POST.get("reason", "")[:REASON_MAX_LENGTH]
        )
        self.message_user(
            request,
            _("Restored %(customer)s: its IM clients find their servers again.") % {"customer": customer},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))

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
