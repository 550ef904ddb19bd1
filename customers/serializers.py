"""Explicit serializers, one per management endpoint."""

from rest_framework import serializers

from .models import Customer
from .services import EDITABLE_FIELDS


class CustomerSerializer(serializers.ModelSerializer):
    """A customer as ``/customer/list`` and ``/customer/add`` answer it: every document field plus ``id``."""

    licence_state = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ("id", *EDITABLE_FIELDS, "licence_state", "created_at", "updated_at")
        read_only_fields = fields

    def get_licence_state(self, customer: Customer) -> str:
        return customer.licence_state().value


class CustomerAddSerializer(serializers.ModelSerializer):
    """The document's ``/customer/add`` parameters; ``code`` and ``name`` are required."""

    class Meta:
        model = Customer
        fields = EDITABLE_FIELDS


class CustomerRemoveSerializer(serializers.Serializer):
    id = serializers.UUIDField()
