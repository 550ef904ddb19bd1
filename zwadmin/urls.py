from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from zwadmin.health import healthz
from zwadmin.schema import SchemaView

admin.site.site_header = _("Zhongwei customer console")
admin.site.site_title = _("zwadmin")
admin.site.index_title = _("Fleet and customer registry")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    re_path(r"^healthz/?$", healthz, name="healthz"),
    path("", include("customers.urls")),
    path("", include("telemetry.urls")),
    # After the machine paths, so that resolving the lookup never tries them. Public: see zwadmin/schema.py.
    re_path(r"^api/schema/?$", SchemaView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "zwadmin.exception_handlers.bad_request"
handler403 = "zwadmin.exception_handlers.permission_denied"
handler404 = "zwadmin.exception_handlers.page_not_found"
handler500 = "zwadmin.exception_handlers.server_error"
