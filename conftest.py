"""Fixtures shared by every app's tests."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis outlives a test run)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def make_customer(db):
    """Create a registry customer through the service, as the console would."""
    from customers.services import customer_create

    def make(code="0513001", name="江苏中威科技", **details):
        details.setdefault("tcphost", "61.155.85.77")
        details.setdefault("tcpport", 10003)
        details.setdefault("webhost", "61.155.85.77")
        details.setdefault("webport", 10001)
        details.setdefault("filehost", "61.155.85.77")
        details.setdefault("fileport", 10004)
        return customer_create(code=code, name=name, **details)

    return make


@pytest.fixture
def make_staff(db, django_user_model):
    """A staff user holding exactly the given permissions (``"customers.view_customer"`` …)."""

    def make(*perms: str, username: str = "operator"):
        user = django_user_model.objects.create_user(username=username, password="pw-for-tests-1", is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return django_user_model.objects.get(pk=user.pk)  # fresh: permission cache empty

    return make


@pytest.fixture
def staff_client(make_staff):
    """An API client logged in as staff with the given permissions."""

    def make(*perms: str):
        client = APIClient()
        client.force_authenticate(make_staff(*perms))
        return client

    return make
