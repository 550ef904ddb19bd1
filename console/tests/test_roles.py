"""The staff roles 运维 (operations) and 技术支持 (support), in the console and in the API."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from console.roles import OPERATIONS, ROLES, SUPPORT


@pytest.fixture
def member(db, django_user_model, client):
    """A logged-in staff member of one role, and nothing else."""

    def make(role: str):
        user = django_user_model.objects.create_user(username=f"staff-{role}", password="pw-for-tests-1", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return client

    return make


@pytest.mark.django_db
def test_migrate_creates_both_roles_with_exactly_their_permissions():
    for role, permissions in ROLES.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(permissions)


@pytest.mark.django_db
def test_setup_roles_is_idempotent_and_restores_a_tampered_role():
    Group.objects.get(name=SUPPORT).permissions.clear()

    call_command("setup_roles")
    call_command("setup_roles")

    assert Group.objects.filter(name=SUPPORT).count() == 1
    assert Group.objects.get(name=SUPPORT).permissions.count() == len(ROLES[SUPPORT])


def test_support_sees_customers_but_cannot_add_change_or_remove_them(member, make_customer):
    customer = make_customer()
    client = member(SUPPORT)

    assert client.get("/admin/customers/customer/").status_code == HTTPStatus.OK
    assert client.get("/customer/list").status_code == HTTPStatus.OK
    assert client.get("/admin/customers/customer/add/").status_code == HTTPStatus.FORBIDDEN
    assert client.post("/customer/add", {"code": "0513999", "name": "x"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post("/customer/remove", {"id": str(customer.id)}).status_code == HTTPStatus.FORBIDDEN
    change_page = client.get(f"/admin/customers/customer/{customer.id}/change/")
    assert change_page.status_code == HTTPStatus.OK
    assert b'name="_save"' not in change_page.content  # read-only page, no save button


def test_support_does_not_see_user_accounts_in_the_console(member):
    client = member(SUPPORT)

    assert client.get("/admin/auth/user/").status_code == HTTPStatus.FORBIDDEN
    assert b"/admin/auth/" not in client.get("/admin/").content


def test_operations_add_change_and_remove_customers(member, make_customer):
    customer = make_customer()
    client = member(OPERATIONS)

    added = client.post(
        "/customer/add", {"code": "0512003", "name": "苏州工业园区管委会"}, content_type="application/json"
    )
    removed = client.post("/customer/remove", {"id": str(customer.id)})

    assert added.status_code == HTTPStatus.CREATED
    assert removed.status_code == HTTPStatus.OK
    assert client.get("/admin/customers/customer/add/").status_code == HTTPStatus.OK
