from django.urls import re_path

from . import views

# The vendor document's management interface ("界面接口"), paths exactly as written.
urlpatterns = [
    re_path(r"^customer/list/?$", views.CustomerListView.as_view(), name="customer-list"),
    re_path(r"^customer/add/?$", views.CustomerAddView.as_view(), name="customer-add"),
    re_path(r"^customer/remove/?$", views.CustomerRemoveView.as_view(), name="customer-remove"),
]
