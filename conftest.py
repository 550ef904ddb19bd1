"""Fixtures shared by every app's tests: the document's example customer, staff of each kind, telemetry rows.

Factories rather than rows: each test builds what it needs, through the services where the product writes
through them, so the rules and the lookup cache apply as they do in production. An app's tests take these
fixtures instead of importing a layer above their own (``pyproject.toml``, the layers contract).
"""

import datetime
import os

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

# The vendor document's example customer, as its /customer/add parameters are named on the wire.
DOCUMENT_EXAMPLE = {
    "code": "0513001",
    "name": "江苏中威科技",
    "mac": "56:E8:F6:23:EF",
    "tcphost": "61.155.85.77",
    "tcpport": 10003,
    "webhost": "61.155.85.77",
    "webport": 10001,
    "filehost": "61.155.85.77",
    "fileport": 10004,
    "timeout": "2016-09-21",
    "contact": "杨燕龙",
    "ctel": "15151390310",
    "server": "宋卫南",
}

# The console is served over HTTPS, terminated by the proxy in front (X-Forwarded-Proto), and the tests read
# our own (English) strings whatever translations exist; a test that checks Chinese asks for it.
CONSOLE_HEADERS = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_ACCEPT_LANGUAGE": "en"}


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.once``: a slow test whose answer does not depend on the database (the browser, the
    fuzzer, the app-server limits). CI runs the suite twice, on SQLite and on PostgreSQL; its SQLite pass sets
    ``ZWADMIN_SKIP_ONCE=1`` so these run once. ``make test`` alone runs everything."""
    if os.environ.get("ZWADMIN_SKIP_ONCE") == "1":
        skip = pytest.mark.skip(reason="runs in CI's other pass (ZWADMIN_SKIP_ONCE=1)")
        for item in items:
            if "once" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis outlives a test run)."""
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    cache = caches["default"]
    # The database cache (no REDIS_URL) is a table of the test database: rolled back with it.
    if isinstance(cache, DatabaseCache):
        yield
        return
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def document_example():
    """The document's example customer as /customer/add takes it (wire names; a fresh copy per test)."""
    return dict(DOCUMENT_EXAMPLE)


@pytest.fixture
def make_customer(db):
    """Create a registry customer through the service, as the console would.

    Model field names (``service_engineer``, not the wire's ``server``); the endpoints default to the
    document's example, everything else to empty.
    """
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
def jiangsu(make_customer, django_capture_on_commit_callbacks):
    """The document's example customer, every field as the document gives it, in the registry and the cache."""
    fields = {("service_engineer" if name == "server" else name): value for name, value in DOCUMENT_EXAMPLE.items()}
    with django_capture_on_commit_callbacks(execute=True):
        return make_customer(**fields)


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
def member(db, django_user_model):
    """A staff member of one role (运维 or 技术支持, ``console.roles``), named after it unless told."""

    def make(role: str, username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or f"staff-{role}", password="pw-for-tests-1", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def staff_client(make_staff):
    """An API client logged in as staff with the given permissions."""

    def make(*perms: str):
        client = APIClient()
        client.force_authenticate(make_staff(*perms))
        return client

    return make


@pytest.fixture
def admin_client(admin_client):
    """pytest-django's superuser console session, over the proxy's HTTPS, reading English."""
    admin_client.defaults.update(CONSOLE_HEADERS)
    return admin_client


@pytest.fixture
def console_client(db):
    """A console session of ``user``, over the proxy's HTTPS, reading English."""

    def make(user) -> Client:
        client = Client(**CONSOLE_HEADERS)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_status(db):
    """The customer's latest reported status, as /api/server/commit would have stored it."""
    from telemetry.models import ServerStatus

    def make(customer, **fields):
        now = timezone.now()
        fields = {
            "name": customer.name,
            "mac": customer.mac or "56:E8:F6:23:EF",
            "ip": "192.168.0.7",
            "timeout": customer.timeout or datetime.date(2016, 9, 21),
            "count": 178,
            "updatetimes": 32,
            "reported_at": now,
            "first_reported_at": now - datetime.timedelta(days=30),
            "reports": 1,
            **fields,
        }
        return ServerStatus.objects.create(customer=customer, **fields)

    return make


@pytest.fixture
def report_from(db):
    """The customer's server reported ``at`` (a moment) or ``ago`` (a timedelta): one history row and its
    latest status, written directly (no throttle, no key), as the dashboard and the changelist read them."""
    from telemetry.models import ServerReport, ServerStatus

    def report(customer, *, at=None, ago=None, mac="", timeout=None, count=10, updatetimes=3):
        at = at if at is not None else timezone.now() - (ago or datetime.timedelta())
        fields = {"mac": mac, "timeout": timeout, "count": count, "updatetimes": updatetimes, "reported_at": at}
        ServerReport.objects.create(customer=customer, **fields)
        ServerStatus.objects.update_or_create(
            customer=customer, defaults={**fields, "first_reported_at": at, "reports": 1}
        )

    return report
