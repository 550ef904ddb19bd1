"""Scale-out: any number of stateless app nodes sharing one PostgreSQL and one Redis.

Two gunicorn processes on two ports stand for two machines behind a load balancer. Whatever one
node learns (an edit, a login session, a throttle count) the other must see at once: nothing that
matters may live in a process.
"""

import re
from contextlib import ExitStack
from http import HTTPStatus

import orjson
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.authtoken.models import Token

from customers.models import Customer
from tests.nodes import Browser, needs_postgresql_and_redis, start_node

pytestmark = needs_postgresql_and_redis

UNKNOWN_CODES_ALLOWED = 3


@pytest.fixture(scope="module")
def nodes(django_db_setup, static_root):
    env = {"DJANGO_STATIC_ROOT": str(static_root), "ZWADMIN_LOOKUP_UNKNOWN_RATE": f"{UNKNOWN_CODES_ALLOWED}/hour"}
    with ExitStack() as stack:
        yield start_node(stack, env=env), start_node(stack, env=env)


def lookup(node, code: str, client_address: str = "198.51.100.1", spoofed: str = ""):
    # As nginx forwards it: whatever the client wrote, then the address nginx saw (DJANGO_NUM_PROXIES=1).
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    response = node.get(f"/api/customer/info?code={code}", headers={"X-Forwarded-For": forwarded})
    return response.status, response.json()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def operator(transactional_db, django_user_model):
    # Hashed as production hashes it: the nodes do not know the tests' fast MD5 hasher.
    user = django_user_model.objects.create_superuser("ops", password=None)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


def csrf_token(page: bytes) -> str:
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


def test_a_customer_added_through_one_node_is_looked_up_through_the_other(nodes, operator):
    node_a, node_b = nodes
    token = Token.objects.create(user=operator)
    assert lookup(node_b, "0513001")[0] == HTTPStatus.NOT_FOUND  # and that answer is cached

    response = node_a.post(
        "/customer/add",
        body=orjson.dumps({"code": "0513001", "name": "江苏中威科技", "tcphost": "61.155.85.77", "tcpport": 10003}),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
    )
    assert response.status == HTTPStatus.CREATED, response.body

    status, body = lookup(node_b, "0513001")
    assert (status, body["name"], body["tcphost"]) == (HTTPStatus.OK, "江苏中威科技", "61.155.85.77")


def test_an_edit_in_the_console_of_one_node_is_seen_by_the_other_at_once(nodes, operator, make_customer):
    node_a, node_b = nodes
    customer = make_customer(code="0513001", name="江苏中威科技", tcphost="61.155.85.77")
    for node in (node_a, node_b, node_a, node_b):  # cached everywhere
        assert lookup(node, "0513001")[1]["tcphost"] == "61.155.85.77"

    # An operator logs in through node A; the load balancer sends the next requests to node B.
    browser = Browser()
    login_page = browser.get(node_a, "/admin/login/")
    assert login_page.status == HTTPStatus.OK
    response = browser.post(
        node_a,
        "/admin/login/?next=/admin/",
        {"username": "ops", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status == HTTPStatus.FOUND, response.body[:500]

    change_url = f"/admin/customers/customer/{customer.pk}/change/"
    change_page = browser.get(node_b, change_url)
    assert change_page.status == HTTPStatus.OK  # node B knows the session node A opened
    form = {
        field: "" if getattr(customer, field) is None else str(getattr(customer, field))
        for field in ("code", "name", "mac", "tcphost", "tcpport", "webhost", "webport", "filehost", "fileport")
    }
    form.update(
        timeout="", contact="", ctel="", service_engineer="", tcphost="im.zwtx.cn", name="中威通讯", _save="Save"
    )
    form["csrfmiddlewaretoken"] = csrf_token(change_page.body)
    response = browser.post(node_b, change_url, form)
    assert response.status == HTTPStatus.FOUND, response.body[:2000]
    assert Customer.objects.get(pk=customer.pk).tcphost == "im.zwtx.cn"

    for node in (node_a, node_b, node_a, node_b):
        status, body = lookup(node, "0513001")
        assert (status, body["tcphost"], body["name"]) == (HTTPStatus.OK, "im.zwtx.cn", "中威通讯")


def test_the_unknown_code_throttle_counts_across_nodes(nodes, transactional_db, make_customer):
    node_a, node_b = nodes
    make_customer(code="0513001")
    probes = [(node_a, "9000001"), (node_b, "9000002"), (node_a, "9000003")]
    for attempt, (node, code) in enumerate(probes):
        # A made-up X-Forwarded-For entry each time: the client cannot pass for someone else.
        assert lookup(node, code, "203.0.113.50", spoofed=f"10.0.0.{attempt}")[0] == HTTPStatus.NOT_FOUND

    assert lookup(node_b, "9000004", "203.0.113.50", spoofed="10.9.9.9")[0] == HTTPStatus.TOO_MANY_REQUESTS
    # Refused everything now, a known code included, on either node.
    assert lookup(node_a, "0513001", "203.0.113.50")[0] == HTTPStatus.TOO_MANY_REQUESTS
    # Another client is not affected.
    assert lookup(node_b, "0513001", "203.0.113.51")[0] == HTTPStatus.OK


def test_both_nodes_are_healthy(nodes):
    for node in nodes:
        response = node.get("/healthz")
        assert (response.status, response.json()) == (HTTPStatus.OK, {"database": "ok", "cache": "ok"})
