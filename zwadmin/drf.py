"""Project-wide DRF pieces: renderers, content negotiation, permissions, pagination.

The error shape lives in ``zwadmin.exception_handlers``.
"""

from rest_framework import exceptions, pagination, permissions, renderers
from rest_framework.negotiation import DefaultContentNegotiation


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
