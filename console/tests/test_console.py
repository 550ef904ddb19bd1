"""The console as a whole: its sidebar by task, its Content-Security-Policy, the staff page, and pages that show
each role only what it can do."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from console.navigation import sidebar
from console.roles import OPERATIONS, SUPPORT

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
ADD_STAFF = reverse("admin:auth_user_add")


def visible_sidebar(response):
    """(group title, [item titles]) the page's sidebar shows."""
    return [
        (str(group["title"]), [str(item["title"]) for item in group["items"] if item["has_permission"]])
        for group in response.context["sidebar_navigation"]
        if any(item["has_permission"] for item in group["items"])
    ]


def test_the_sidebar_groups_pages_by_task_with_security_last(admin_client):
    groups = visible_sidebar(admin_client.get(INDEX))

    assert [title for title, _ in groups] == ["Customers", "Monitoring", "Reported data", "Accounts and security"]
    assert groups[1][1][:3] == ["Fleet overview", "Needs attention", "Silent servers"]
    assert "Staff members" in groups[-1][1]


@pytest.mark.parametrize("role", [OPERATIONS, SUPPORT])
def test_each_role_sees_its_tasks_and_no_account_pages(console_client, member, role):
    groups = visible_sidebar(console_client(member(role)).get(INDEX))

    assert [title for title, _ in groups] == ["Customers", "Monitoring", "Reported data"]


def test_a_filtered_link_is_active_only_on_its_filter(admin_client):
    silent = admin_client.get(reverse("admin:customers_customer_changelist"), {"reporting": "silent"})
    items = {
        str(item["title"]): item["active"] for group in silent.context["sidebar_navigation"] for item in group["items"]
    }

    assert items["Silent servers"] is True
    assert items["Customer registry"] is False
    assert len(sidebar(silent.wsgi_request)) == 4


def test_console_pages_carry_a_content_security_policy(admin_client):
    policy = admin_client.get(INDEX).headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())

    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self' 'unsafe-eval'"  # no inline script; the theme's Alpine.js evaluates
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"


def test_one_page_adds_a_staff_member_with_a_role(admin_client):
    page = admin_client.get(ADD_STAFF)
    fields = list(page.context["adminform"].form.fields)

    assert fields == ["username", "first_name", "password1", "password2", "role", "is_active"]
    response = admin_client.post(
        ADD_STAFF,
        {
            "username": "li-support",
            "first_name": "李娜",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
            "role": SUPPORT,
            "is_active": "on",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    user = User.objects.get(username="li-support")
    assert (user.first_name, user.is_staff, user.is_active, user.is_superuser) == ("李娜", True, True, False)
    assert [group.name for group in user.groups.all()] == [SUPPORT]
    assert user.check_password("a-long-pass-phrase-42")


def test_the_role_can_be_changed_and_raw_permissions_stay_for_superusers(admin_client, console_client, member):
    staff = member(SUPPORT, "wang")
    change = reverse("admin:auth_user_change", args=[staff.pk])
    superuser_fields = set(admin_client.get(change).context["adminform"].form.fields)
    assert {"role", "user_permissions", "is_superuser"} <= superuser_fields

    manager = member(OPERATIONS, "manager")  # an operator given the staff page
    manager.user_permissions.add(*Permission.objects.filter(codename__in=("view_user", "change_user")))
    client = console_client(User.objects.get(pk=manager.pk))
    form = client.get(change).context["adminform"].form
    assert "user_permissions" not in form.fields and "is_superuser" not in form.fields
    data = {"username": "wang", "first_name": "王", "role": OPERATIONS, "is_active": "on"}

    assert client.post(change, data).status_code == HTTPStatus.FOUND
    assert [group.name for group in User.objects.get(pk=staff.pk).groups.all()] == [OPERATIONS]
    superuser = User.objects.create_superuser("root", password="pw-for-tests-1")
    assert client.get(reverse("admin:auth_user_change", args=[superuser.pk])).context["has_change_permission"] is False


def test_support_sees_no_input_hints_or_instructions_it_cannot_follow(console_client, member, make_customer):
    customer = make_customer()
    url = reverse("admin:customers_customer_change", args=[customer.pk])

    support = console_client(member(SUPPORT)).get(url).content.decode()
    operations = console_client(member(OPERATIONS)).get(url).content.decode()

    for hint in ("4 to 12 digits", "Change it with the actions of the customer list", "To require one"):
        assert hint in operations
        assert hint not in support
    assert "The public addresses IM clients connect to" in support  # what a value means stays
