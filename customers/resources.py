"""The customer registry as the console exports it (CSV, XLSX): ``zwadmin.exports``."""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field

from zwadmin.exports import ConsoleResource

from .models import Customer
from .services import EDITABLE_FIELDS


class CustomerResource(ConsoleResource):
    """Every field of the document, the licence state as the changelist shows it, and the record's dates."""

    licence_state = Field(column_name=capfirst(_("licence")))

    class Meta:
        model = Customer
        fields = (*EDITABLE_FIELDS, "licence_state", "created_at", "updated_at", "removed_at", "id")
        export_order = fields

    def dehydrate_licence_state(self, customer: Customer) -> str:
        return str(customer.licence_state().label)
