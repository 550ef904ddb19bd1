"""The vendor document's management endpoints (staff, logged in): list, add, remove."""

from http import HTTPStatus

from django.utils.translation import gettext as _
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from zwadmin.api import StaffModelPermissions

from . import services
from .filters import CustomerFilterSet
from .models import Customer
from .serializers import CustomerAddSerializer, CustomerRemoveSerializer, CustomerSerializer


class CustomerListView(generics.ListAPIView):
    """``GET /customer/list``: the registry and each server's latest status, paginated; removed customers are hidden."""

    queryset = Customer.objects.active().select_related("server_status")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    search_fields = ("code", "name", "contact", "ctel", "server")
    ordering_fields = ("code", "name", "timeout", "server", "created_at", "updated_at")
    ordering = ("code",)


class CustomerAddView(APIView):
    """``POST /customer/add``: register a customer (form or JSON) → 201 with the customer."""

    queryset = Customer.objects.all()

    def post(self, request):
        serializer = CustomerAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(**serializer.validated_data, by=request.user)
        return Response(CustomerSerializer(customer).data, status=HTTPStatus.CREATED)


class CanRemoveCustomers(StaffModelPermissions):
    perms_map = {**StaffModelPermissions.perms_map, "POST": ["%(app_label)s.delete_%(model_name)s"]}


class CustomerRemoveView(APIView):
    """``POST /customer/remove`` with ``id``: take a customer out of the registry (restorable in the console)."""

    queryset = Customer.objects.all()
    permission_classes = [CanRemoveCustomers]

    def post(self, request):
        serializer = CustomerRemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = Customer.objects.active().filter(pk=serializer.validated_data["id"]).first()
        if customer is None:
            message = _("No customer in the registry has this id.")
            return Response({"detail": message, "errors": {"id": [message]}}, status=HTTPStatus.NOT_FOUND)
        services.customer_remove(customer=customer, by=request.user)
        return Response({"status": "ok", "id": str(customer.id), "removed_at": customer.removed_at})
