from django.urls import re_path

from . import views

# Paths exactly as deployed clients call them; the trailing slash is optional and never redirects.
urlpatterns = [
    re_path(r"^api/customer/info/?$", views.CustomerInfoView.as_view(), name="customer-info"),
]
