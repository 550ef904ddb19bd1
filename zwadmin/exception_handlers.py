"""The one error shape of every response (docs/protocol.md, "General").

Every error leaves as ``{"detail": "...", "errors": {field: [messages]}}``,
whether DRF, a domain error (``zwadmin.errors.DomainError``), a Django
``ValidationError`` raised in a service, or Django itself (404/500 outside DRF
views) produced it. The admin keeps Django's HTML pages.
"""

from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def error_body(detail, errors=None) -> dict:
    return {"detail": str(detail), "errors": errors or {}}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.body(), status=exc.status, headers=exc.headers or None)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = error_body(_("Invalid input."), errors)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = error_body(detail)
    return response


# Django's own error views, for requests that never reach a DRF view (unknown paths,
# oversized bodies, crashes): JSON, so a deployed client never has to parse HTML.
# The admin is for people and keeps Django's pages.


def _is_console(request) -> bool:
    return request.path.startswith("/admin/")


def _json_error(status: HTTPStatus, detail: str) -> JsonResponse:
    return JsonResponse(error_body(detail), status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception=None):
    if _is_console(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return _json_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _("The request is too large."))
    return _json_error(HTTPStatus.BAD_REQUEST, _("Bad request."))


def permission_denied(request, exception=None):
    if _is_console(request):
        return defaults.permission_denied(request, exception)
    return _json_error(HTTPStatus.FORBIDDEN, _("You do not have permission to perform this action."))


def page_not_found(request, exception=None):
    if _is_console(request):
        return defaults.page_not_found(request, exception)
    return _json_error(HTTPStatus.NOT_FOUND, _("Not found."))


def server_error(request):
    if _is_console(request):
        return defaults.server_error(request)
    return _json_error(HTTPStatus.INTERNAL_SERVER_ERROR, _("Server error."))
