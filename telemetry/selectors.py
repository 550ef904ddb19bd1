"""Reads of the telemetry that are more than a queryset."""

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet

from customers.models import Customer

# The rules of ServerStatus.mac_mismatch / timeout_mismatch, in SQL: compared only when both sides are known
# ("> ''" is "neither NULL nor empty").
MAC_MISMATCH = Q(mac__gt="", server_status__mac__gt="") & ~Q(server_status__mac=F("mac"))
TIMEOUT_MISMATCH = Q(timeout__isnull=False, server_status__timeout__isnull=False) & ~Q(
    server_status__timeout=F("timeout")
)


def customers_with_mismatch(*, queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Customers whose server's latest report disagrees with the registry on the MAC or the licence expiry.

    Active customers unless ``queryset`` says otherwise; each is annotated with ``mac_mismatch`` and
    ``timeout_mismatch`` (booleans) and comes with its ``server_status``.
    """
    queryset = Customer.objects.active() if queryset is None else queryset
    return (
        queryset.annotate(
            mac_mismatch=ExpressionWrapper(MAC_MISMATCH, output_field=BooleanField()),
            timeout_mismatch=ExpressionWrapper(TIMEOUT_MISMATCH, output_field=BooleanField()),
        )
        .filter(MAC_MISMATCH | TIMEOUT_MISMATCH)
        .select_related("server_status")
    )
