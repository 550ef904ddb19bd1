"""The top of the stack: routes every app by its dotted name (``include``), so this module imports none.

Paths are the vendor document's, exactly (docs/protocol.md).
"""

from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from zwadmin.health import healthz

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
    path("", include("console.urls")),  # the OpenAPI schema and its docs, after the machine paths
]

handler400 = "zwadmin.exception_handlers.bad_request"
handler403 = "zwadmin.exception_handlers.permission_denied"
handler404 = "zwadmin.exception_handlers.page_not_found"
handler500 = "zwadmin.exception_handlers.server_error"
