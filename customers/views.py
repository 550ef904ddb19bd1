"""The vendor document's management endpoints (staff, logged in): list, add, remove."""

from http import HTTPStatus

from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from zwadmin.drf import StaffModelPermissions

from . import services
from .errors import UnknownCustomerId
from .filters import CustomerFilterSet
from .models import Customer
from .serializers import CustomerAddSerializer, CustomerRemoveSerializer, CustomerSerializer


class CustomerListView(generics.ListAPIView):
    """``GET /customer/list``: the registry and each server's latest status, paginated; removed customers are hidden."""

    # The browsable page's title and text (Django REST framework shows the class name and docstring otherwise).
    name = _("Customer registry")
    description = _("The customers in the registry and each server's latest report; removed customers are not listed.")

    # ``server`` (the document's name for the service engineer) orders the list under its wire name.
    queryset = Customer.objects.active().select_related("server_status").annotate(server=F("service_engineer"))
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    search_fields = ("code", "name", "contact", "ctel", "service_engineer")
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
            raise UnknownCustomerId()
        services.customer_remove(customer=customer, by=request.user)
        return Response({"status": "ok", "id": str(customer.id), "removed_at": customer.removed_at})
