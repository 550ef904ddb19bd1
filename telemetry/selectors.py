"""Reads of the telemetry that are more than a queryset."""

from django.db.models import BooleanField, ExpressionWrapper, QuerySet

from customers.models import Customer

from .models import UnregisteredServer
from .states import MISMATCH_CONDITIONS, Mismatch


def unregistered_servers() -> QuerySet[UnregisteredServer]:
    """Reporting codes the registry does not know. A code registered since (removed ones included) no longer
    counts: creating the customer is what clears a sighting, and the sighting itself stays as history."""
    return UnregisteredServer.objects.exclude(code__in=Customer.objects.values("code"))


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
