"""Explicit serializers, one per management endpoint.

Field names on the wire are the vendor document's (docs/protocol.md): ``server`` is the service engineer
(``Customer.service_engineer``).
"""

from rest_framework import serializers

from .models import Customer
from .services import EDITABLE_FIELDS

# docs/protocol.md "Dates and times": YYYY-MM-DD; "YYYY-MM-DD HH:MM:SS" and "YYYY/MM/DD" are accepted as well.
DATE_INPUT_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d")

# The document's /customer/add parameters, in its order: the editable fields under their wire names.
WIRE_NAMES = {"service_engineer": "server"}
DOCUMENT_FIELDS = tuple(WIRE_NAMES.get(field, field) for field in EDITABLE_FIELDS)
_ENGINEER = Customer._meta.get_field("service_engineer")


class CustomerStatusSerializer(serializers.Serializer):
    """The latest status the customer's IM server reported (``telemetry.ServerStatus``), read only."""

    name = serializers.CharField(read_only=True)
    mac = serializers.CharField(read_only=True)
    ip = serializers.IPAddressField(read_only=True)
    timeout = serializers.DateField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    updatetimes = serializers.IntegerField(read_only=True)
    reported_at = serializers.DateTimeField(read_only=True)
    mac_mismatch = serializers.BooleanField(read_only=True)
    timeout_mismatch = serializers.BooleanField(read_only=True)


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as ``/customer/list`` and ``/customer/add`` answer it: every document field, ``id`` and
    the latest reported status (null until the customer's server first reports)."""

    server = serializers.CharField(source="service_engineer", read_only=True)
    licence_state = serializers.SerializerMethodField()
    status = CustomerStatusSerializer(source="server_status", read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = ("id", *DOCUMENT_FIELDS, "licence_state", "status", "created_at", "updated_at")
        read_only_fields = fields

    def get_licence_state(self, customer: Customer) -> str:
        return customer.licence_state().value


class CustomerAddSerializer(serializers.ModelSerializer):
    """The document's ``/customer/add`` parameters; ``code`` and ``name`` are required."""

    server = serializers.CharField(
        source="service_engineer", max_length=_ENGINEER.max_length, required=False, allow_blank=True
    )

    class Meta:
        model = Customer
        fields = DOCUMENT_FIELDS
        extra_kwargs = {"timeout": {"input_formats": DATE_INPUT_FORMATS}}


class TextUUIDField(serializers.UUIDField):
    """A UUID sent as text. DRF's own field also takes a JSON number as the UUID's integer value (42 → ``…002a``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class CustomerRemoveSerializer(serializers.Serializer):
    """The document's ``/customer/remove`` parameter: the customer's ``id``."""

    id = TextUUIDField()
