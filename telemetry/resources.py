"""A customer's IM users and groups as the console exports them (CSV, XLSX): ``zwadmin.exports``."""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export.fields import Field

from zwadmin.exports import ConsoleResource

from .models import ImGroup, ImUser


class PerCustomerResource(ConsoleResource):
    """Rows that belong to a customer, which is named by its code and name rather than its internal id."""

    customer_code = Field(attribute="customer__code", column_name=capfirst(_("customer code")))
    customer_name = Field(attribute="customer__name", column_name=capfirst(_("customer name")))


class ImUserResource(PerCustomerResource):
    class Meta:
        model = ImUser
        fields = ("customer_code", "customer_name", "uuid", "nickname", *ImUser.FIGURES)
        fields += ("first_reported_at", "last_reported_at")
        export_order = fields


class ImGroupResource(PerCustomerResource):
    class Meta:
        model = ImGroup
        fields = ("customer_code", "customer_name", "gid", "name", "createrid", "creatername", *ImGroup.FIGURES)
        fields += ("ctime", "first_reported_at", "last_reported_at")
        export_order = fields
