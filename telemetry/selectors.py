"""Reads of the telemetry that are more than a queryset."""

from django.db.models import BooleanField, ExpressionWrapper, QuerySet

from customers.models import Customer

from .states import MISMATCH_CONDITIONS, Mismatch


def customers_with_mismatch(*, queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Customers whose server's latest report disagrees with the registry on the MAC or the licence expiry.

    Active customers unless ``queryset`` says otherwise; each is annotated with ``mac_mismatch`` and
    ``timeout_mismatch`` (booleans) and comes with its ``server_status``.
    """
    queryset = Customer.objects.active() if queryset is None else queryset
    return (
        queryset.annotate(
            mac_mismatch=ExpressionWrapper(MISMATCH_CONDITIONS[Mismatch.MAC], output_field=BooleanField()),
            timeout_mismatch=ExpressionWrapper(MISMATCH_CONDITIONS[Mismatch.TIMEOUT], output_field=BooleanField()),
        )
        .filter(MISMATCH_CONDITIONS[Mismatch.ANY])
        .select_related("server_status")
    )
