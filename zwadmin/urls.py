from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("customers.urls")),
    path("", include("telemetry.urls")),
]

handler400 = "zwadmin.exception_handlers.bad_request"
handler403 = "zwadmin.exception_handlers.permission_denied"
handler404 = "zwadmin.exception_handlers.page_not_found"
handler500 = "zwadmin.exception_handlers.server_error"
