"""Project-wide DRF pieces: renderers, parsers, content negotiation, permissions, pagination, OPTIONS metadata.

The error shape lives in ``zwadmin.exception_handlers``.
"""

import io
from http import HTTPStatus

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, metadata, pagination, parsers, permissions, renderers
from rest_framework.negotiation import DefaultContentNegotiation

from .bounded_json import MAX_DEPTH, JSONShapeError, check_shape


class RequestTooLarge(exceptions.APIException):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request is too large.")
    default_code = "request_too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, given only what it can parse safely (``zwadmin.bounded_json``).

    The body is read up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a larger one is a 413, as Django answers a form), may
    hold at most ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` values (as a form may hold that many fields; 413), and may not
    nest deeper than ``bounded_json.MAX_DEPTH`` (400): the standard library's parser recurses once per level.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestTooLarge()
        values = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        try:
            check_shape(body, max_values=values or len(body) + 1, max_containers=values or len(body) + 1)
        except JSONShapeError as error:
            if error.too_large:
                raise RequestTooLarge() from None
            raise exceptions.ParseError(
                _("JSON parse error - nested more than %(max)d levels deep.") % {"max": MAX_DEPTH}
            ) from None
        return super().parse(io.BytesIO(body), media_type, parser_context)


class Metadata(metadata.SimpleMetadata):
    """What ``OPTIONS`` answers: DRF's description of a view (its name, formats and, for staff, the fields a POST
    takes) without the ``description``, which DRF takes from the view's docstring, written for developers."""

    def determine_metadata(self, request, view):
        answer = super().determine_metadata(request, view)
        answer.pop("description", None)
        return answer


class UTF8JSONRenderer(renderers.JSONRenderer):
    """JSON with Chinese unescaped and the charset spelled out, as deployed clients expect."""

    charset = "utf-8"


class MachineContentNegotiation(DefaultContentNegotiation):
    """Deployed IM servers and clients send whatever Accept header they like: always answer JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff only, with Django's model permissions — including *view* for reads.

    A method the endpoint does not offer is a 405 for staff, not a 403: DRF checks permissions
    before it looks for the handler, so a script holding only *delete* would otherwise be told
    403 for ``GET /customer/remove``.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if request.method not in view.allowed_methods:
            raise exceptions.MethodNotAllowed(request.method)
        return super().has_permission(request, view)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000
