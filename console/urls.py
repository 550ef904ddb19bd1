from django.urls import re_path
from drf_spectacular.views import SpectacularSwaggerView

from .schema import SchemaView

# Public: see console/schema.py. Mounted after the machine paths, so that resolving the lookup never tries them.
urlpatterns = [
    re_path(r"^api/schema/?$", SchemaView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
