"""Endpoints that machines call: IM clients (lookup) and deployed IM servers (commits)."""

from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import connection_info_cache_key, connection_info_json
from customers.validators import is_customer_code
from zwadmin.api import MachineContentNegotiation, UTF8JSONRenderer

from .throttles import UnknownCodeLookupThrottle


class MachineAPIView(APIView):
    """Anonymous, always JSON whatever the Accept header, parameters from query string or body."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = MachineContentNegotiation
    throttle_classes = []

    def parameter(self, request, name: str):
        """A parameter from the body (POST) or the query string (GET, or a POST that sends it in the URL)."""
        if request.method == "POST":
            data = request.data
            if hasattr(data, "get") and data.get(name) not in (None, ""):
                return data.get(name)
        return request.query_params.get(name)


class CustomerInfoView(MachineAPIView):
    """``/api/customer/info?code=``: where an IM client finds its company's servers (PROTOCOL.md)."""

    def get(self, request):
        code = self.parameter(request, "code")
        if code in (None, ""):
            raise exceptions.ValidationError({"code": [_("This field is required.")]})
        code = str(code).strip()

        throttle = UnknownCodeLookupThrottle()
        throttle_key = throttle.get_cache_key(request, self)
        info_key = connection_info_cache_key(code) if is_customer_code(code) else None
        # One cache round trip answers both "is this address blocked" and "what is this code".
        cached = throttle.cache.get_many([throttle_key, info_key] if info_key else [throttle_key])
        if throttle.is_exhausted(cached.get(throttle_key)):
            raise exceptions.Throttled(wait=throttle.wait())

        if info_key:
            payload = cached.get(info_key)
            payload = connection_info_json(code=code) if payload is None else payload or None
            if payload is not None:
                return HttpResponse(payload, content_type="application/json; charset=utf-8")

        if not throttle.record_unknown_code(request, self, code):
            raise exceptions.Throttled(wait=throttle.wait())
        message = _("No customer has this code.")
        return Response({"detail": message, "errors": {"code": [message]}}, status=HTTPStatus.NOT_FOUND)

    def post(self, request):
        return self.get(request)
