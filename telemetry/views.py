"""Endpoints that machines call: IM clients (lookup) and deployed IM servers (commits); and the staff's
per-customer user and group lists."""

import re

import orjson
from django.conf import settings
from django.db.models import CharField, Value
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, generics, permissions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from customers.errors import UnknownCode
from customers.lookup_cache import ensure_fresh
from customers.models import Customer
from customers.selectors import connection_info_cache_key, connection_info_from_database, connection_info_json
from customers.validators import CODE_DIGITS, is_customer_code
from zwadmin.drf import MachineContentNegotiation, UTF8JSONRenderer
from zwadmin.machine import machine_view

from . import services
from .filters import ImGroupFilterSet, ImUserFilterSet
from .ingest_parsing import (
    InvalidJSON,
    InvalidJSONBody,
    RequestTooLarge,
    TooManyRecords,
    client_address,
    commit_parameters,
    content_length,
    ingest_key,
    load_json,
)
from .models import ImGroup, ImUser
from .renderers import CSVRenderer
from .serializers import ImGroupSerializer, ImUserSerializer
from .throttles import CACHE_ERRORS, CommitGate, UnknownCodeLookupThrottle, cache_outage
from .validators import clean_server_report


class MachineAPIView(APIView):
    """Anonymous, always JSON whatever the Accept header, parameters from query string or body."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [UTF8JSONRenderer]
    content_negotiation_class = MachineContentNegotiation
    throttle_classes = []

    @classmethod
    def as_view(cls, **initkwargs):
        # Served without the console's middleware (zwadmin/machine.py): these views need none of it.
        return machine_view(super().as_view(**initkwargs))

    def parameter(self, request, name: str):
        """A parameter from the body (POST) or the query string (GET, or a POST that sends it in the URL)."""
        if request.method == "POST":
            data = request.data
            if hasattr(data, "get") and data.get(name) not in (None, ""):
                return data.get(name)
        return request.query_params.get(name)


_PLAIN_CODE_QUERY = re.compile(rf"code=({CODE_DIGITS})", re.ASCII)


LOOKUP_WITHOUT_CACHE = "lookups are answered from the database, unthrottled,"

# A lookup's body is one code (``code=0513001``, or the same as JSON or multipart): a larger one is refused by its
# Content-Length, before it is read (docs/protocol.md, "Limits").
LOOKUP_MAX_BODY_BYTES = 4096


class CustomerInfoView(MachineAPIView):
    """``/api/customer/info?code=``: where an IM client finds its company's servers (docs/protocol.md)."""

    def dispatch(self, request, *args, **kwargs):
        # The hot path: a GET whose answer is cached, from an address that is not throttled, is answered
        # here, before DRF wraps the request, negotiates and finalises (all it would add to this answer is
        # the Allow header, set here too): that is a fifth of what the lookup costs beyond a constant answer
        # (docs/performance.md). Everything else (POST, misses, unknown codes, throttled addresses, errors)
        # takes DRF's path to ``get`` below, which gives the same answers.
        if request.method == "GET":
            response = self.cached_answer(request)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def cached_answer(self, request) -> HttpResponse | None:
        if not settings.LOOKUP_CACHE:
            return None  # no Redis: every lookup reads the database (customers/lookup_cache.py)
        # What clients send, "code=0513001", is read without building a QueryDict; anything else is parsed.
        match = _PLAIN_CODE_QUERY.fullmatch(request.META.get("QUERY_STRING", ""))
        code = match[1] if match else request.GET.get("code", "").strip()
        if not is_customer_code(code):
            return None
        if not cache_outage.usable():
            return None
        throttle = UnknownCodeLookupThrottle()
        throttle_key = throttle.get_cache_key(request)
        info_key = connection_info_cache_key(code)
        try:
            ensure_fresh()
            cached = throttle.cache.get_many([throttle_key, info_key])
        except CACHE_ERRORS as error:
            cache_outage.failed(error, LOOKUP_WITHOUT_CACHE)  # one timeout: the full path now skips the cache
            return None
        cache_outage.recovered()
        payload = cached.get(info_key)
        if not payload or throttle.is_marked(cached.get(throttle_key)):
            return None
        response = HttpResponse(payload, content_type="application/json; charset=utf-8")
        response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def get(self, request):
        code = self.parameter(request, "code")
        if code in (None, ""):
            raise exceptions.ValidationError({"code": [_("This field is required.")]})
        code = str(code).strip()
        if cache_outage.usable():
            try:
                response = self.answer(request, code)
            except CACHE_ERRORS as error:
                cache_outage.failed(error, LOOKUP_WITHOUT_CACHE)
            else:
                cache_outage.recovered()
                if response is None:
                    raise UnknownCode()
                return response
        return self.answer_from_database(code)

    def answer(self, request, code: str) -> HttpResponse | None:
        """The answer for ``code``; None for an unknown code, once it has spent the address's allowance."""
        throttle = UnknownCodeLookupThrottle()
        info_key = connection_info_cache_key(code) if is_customer_code(code) and settings.LOOKUP_CACHE else None
        if settings.LOOKUP_CACHE:
            ensure_fresh()
            # One cache round trip answers both "is this address refused" and "what is this code".
            throttle_key = throttle.get_cache_key(request)
            cached = throttle.cache.get_many([throttle_key, info_key] if info_key else [throttle_key])
            refused = throttle.is_marked(cached.get(throttle_key))
        else:
            cached, refused = {}, throttle.is_refused(request)
        if refused:
            raise exceptions.Throttled(wait=throttle.wait())

        if is_customer_code(code):
            payload = cached.get(info_key) if info_key else None
            payload = connection_info_json(code=code) if payload is None else payload or None
            if payload is not None:
                return HttpResponse(payload, content_type="application/json; charset=utf-8")

        if not throttle.record_unknown_code(request, self, code):
            raise exceptions.Throttled(wait=throttle.wait())
        return None

    def answer_from_database(self, code: str):
        """The answer without the cache (Redis down): the same bytes, straight from the registry, unthrottled."""
        if is_customer_code(code):
            payload = connection_info_from_database(code)
            if payload:
                return HttpResponse(payload, content_type="application/json; charset=utf-8")
        raise UnknownCode()

    def post(self, request):
        if content_length(request) > LOOKUP_MAX_BODY_BYTES:
            raise RequestTooLarge()
        return self.get(request)


class PerCustomerListView(generics.ListAPIView):
    """One customer's list (the document's 用户列表 / 群组列表), ``?code=`` naming the customer.

    ``?format=csv`` (or ``Accept: text/csv``) streams every filtered row in the requested
    order, not one page. Errors stay JSON whatever the format.
    """

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    export_name = ""  # the CSV file is <export_name>-<code>-<date>.csv
    customer: Customer | None = None

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.customer is None:
            # The permission check asks for the queryset (for its model) before list() looks up the customer.
            return queryset.none()
        # Every row has the same customer: annotate its code rather than join the customer table.
        return queryset.filter(customer=self.customer).annotate(code=Value(self.customer.code, CharField()))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # A unique tie-breaker, so that the pages of ``?ordering=-fmsgs`` neither repeat nor skip rows.
        return queryset.order_by(*queryset.query.order_by, "pk")

    def list(self, request, *args, **kwargs):
        code = request.query_params.get("code", "").strip()
        if not code:
            raise exceptions.ValidationError({"code": [_("This field is required.")]})
        self.customer = Customer.objects.active().filter(code=code).first() if is_customer_code(code) else None
        if self.customer is None:
            raise UnknownCode()

        queryset = self.filter_queryset(self.get_queryset())
        if isinstance(request.accepted_renderer, CSVRenderer):
            return self.export_csv(queryset, request.accepted_renderer)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def export_csv(self, queryset, renderer: CSVRenderer) -> StreamingHttpResponse:
        fields = self.get_serializer_class().Meta.fields
        rows = queryset.values_list(*fields).iterator(chunk_size=2000)
        response = StreamingHttpResponse(renderer.stream(fields, rows), content_type="text/csv; charset=utf-8")
        filename = f"{self.export_name}-{self.customer.code}-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and isinstance(response.accepted_renderer, CSVRenderer):
            # Only the export itself is CSV: errors keep the one JSON shape (docs/protocol.md).
            response.accepted_renderer = UTF8JSONRenderer()
            response.accepted_media_type = UTF8JSONRenderer.media_type
        return response


class ImUserListView(PerCustomerListView):
    """``GET /user/list?code=``: the IM users of one customer and their usage figures."""

    # The browsable page's title and text (Django REST framework shows the class name and docstring otherwise).
    name = gettext_lazy("IM users")
    description = gettext_lazy(
        "The IM users of one customer and their usage figures, as its server last reported them."
    )

    queryset = ImUser.objects.all()
    serializer_class = ImUserSerializer
    filterset_class = ImUserFilterSet
    search_fields = ("nickname", "uuid")
    ordering_fields = ("uuid", "nickname", *ImUser.FIGURES, "first_reported_at", "last_reported_at")
    ordering = ("uuid",)
    export_name = "users"


class ImGroupListView(PerCustomerListView):
    """``GET /group/list?code=``: the IM groups of one customer and their figures."""

    name = gettext_lazy("IM groups")
    description = gettext_lazy("The IM groups of one customer and their figures, as its server last reported them.")

    queryset = ImGroup.objects.all()
    serializer_class = ImGroupSerializer
    filterset_class = ImGroupFilterSet
    search_fields = ("name", "gid", "creatername")
    ordering_fields = (
        "gid",
        "name",
        "createrid",
        "creatername",
        *ImGroup.FIGURES,
        "ctime",
        "first_reported_at",
        "last_reported_at",
    )
    ordering = ("gid",)
    export_name = "groups"


class ServerCommitView(MachineAPIView):
    """``GET|POST /api/server/commit``: a deployed server reports its status (docs/protocol.md, "Server interface").

    → ``200 {"status": "ok"}``. A bad value → 400 naming the field. An unknown code → 404, the sighting
    recorded. A customer removed from the registry → 403 naming ``code``: the code is known but its reports
    are refused; not 410, whose "gone for good" the console's restore would contradict. A customer that
    requires its ingest key, without it → 401 naming ``key``. Too many commits of the code, or an address
    that probed too many unknown codes → 429 (``telemetry.throttles.CommitGate``).
    """

    http_method_names = ["get", "post", "options"]  # not HEAD: a probe must not store a report

    def get(self, request):
        gate = CommitGate(request, self, "server")
        gate.check_address()
        parameters = commit_parameters(request)
        report = clean_server_report(parameters)
        # Refusals (unknown code, removed customer, ingest key) are domain errors: 404, 403, 401 naming the field.
        services.server_report_commit(
            **report, sender_address=client_address(request), key=ingest_key(request, parameters), gate=gate
        )
        return Response({"status": "ok"})

    def post(self, request):
        return self.get(request)


class BatchCommitView(MachineAPIView):
    """A ``data`` batch commit: ``data`` is a JSON array (in the query string, a form or multipart field,
    a JSON body's ``data`` as an array or as a JSON string, or a bare JSON array body).

    → ``200 {"status": "ok", "accepted": N, "rejected": [{"index": i, "errors": {...}}]}``: bad records are
    rejected alone; past ``services.REJECTIONS_LISTED`` of them, ``"rejected_unlisted": M`` counts the rest.
    More than ``TELEMETRY_MAX_RECORDS`` records → 413 naming ``data``, nothing stored. ``data`` missing, not
    JSON or not an array → 400 naming ``data``, nothing stored.
    Records of a customer that requires its ingest key, without it, are rejected naming ``key``; of a code
    over its commit rate, naming ``code`` (the whole request is a 429 when that is every code it holds).
    """

    http_method_names = ["get", "post", "options"]  # not HEAD: a probe must not store a batch
    commit = None  # the service: staticmethod(services.<entity>_batch_commit)
    endpoint = ""  # the commit rate's name for it: "user", "group"

    def get(self, request):
        gate = CommitGate(request, self, self.endpoint)
        gate.check_address()
        try:
            parameters = commit_parameters(request)
        except InvalidJSONBody as error:
            raise exceptions.ValidationError({"data": [str(error.detail)]}) from error
        data = parameters.pop("data", None)  # not kept beside what it parses into (a batch may be 30 MB)
        if data is None or data == "":
            raise exceptions.ValidationError({"data": [_("This field is required.")]})
        if isinstance(data, str):
            try:
                data = load_json(data)
            except InvalidJSON as error:
                raise exceptions.ValidationError({"data": [error.message or _("Enter valid JSON.")]}) from error
        if not isinstance(data, list):
            raise exceptions.ValidationError({"data": [_("Enter a JSON array of records.")]})
        if len(data) > settings.TELEMETRY_MAX_RECORDS:
            raise TooManyRecords()
        result = self.commit(
            records=data, sender_address=client_address(request), key=ingest_key(request, parameters), gate=gate
        )
        payload = {"status": "ok", "accepted": result.accepted, "rejected": result.rejected}
        if result.unlisted:  # the answer's size is bounded: the first rejections in full, then how many more
            payload["rejected_unlisted"] = result.unlisted
        # orjson: the rejections of a 50,000-record batch serialise in milliseconds.
        return HttpResponse(orjson.dumps(payload), content_type="application/json; charset=utf-8")

    def post(self, request):
        return self.get(request)


class ImUserCommitView(BatchCommitView):
    """``GET|POST /api/user/commit``: per-user figures, upserted by (customer, uuid)."""

    commit = staticmethod(services.user_batch_commit)
    endpoint = "user"


class ImGroupCommitView(BatchCommitView):
    """``GET|POST /api/group/commit``: per-group figures, upserted by (customer, gid)."""

    commit = staticmethod(services.group_batch_commit)
    endpoint = "group"
