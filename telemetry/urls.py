from django.urls import re_path

from . import views

# Paths exactly as deployed clients call them; the trailing slash is optional and never redirects.
urlpatterns = [
    re_path(r"^api/customer/info/?$", views.CustomerInfoView.as_view(), name="customer-info"),
    # What deployed IM servers commit (docs/protocol.md, "Server interface").
    re_path(r"^api/server/commit/?$", views.ServerCommitView.as_view(), name="server-commit"),
    re_path(r"^api/user/commit/?$", views.ImUserCommitView.as_view(), name="user-commit"),
    re_path(r"^api/group/commit/?$", views.ImGroupCommitView.as_view(), name="group-commit"),
    # The management interface's per-customer lists (staff).
    re_path(r"^user/list/?$", views.ImUserListView.as_view(), name="user-list"),
    re_path(r"^group/list/?$", views.ImGroupListView.as_view(), name="group-list"),
]
