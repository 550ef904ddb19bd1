"""The lookup cache across processes: two app servers sharing one database and one Redis.

An edit made in the console must be visible on the very next lookup from any
worker of any node, so the cached answer has to live in Redis and be
refreshed after the edit commits; a per-process cache would fail this test.
"""

from contextlib import ExitStack
from http import HTTPStatus

import pytest

from customers import services
from tests.nodes import needs_postgresql_and_redis, start_node

pytestmark = needs_postgresql_and_redis


def _lookup(node, code: str) -> tuple[int, dict]:
    response = node.get(f"/api/customer/info?code={code}")
    return response.status, response.json()


@pytest.fixture
def two_nodes(transactional_db):
    with ExitStack() as stack:
        yield start_node(stack), start_node(stack)


def test_an_edit_in_the_console_is_seen_at_once_by_every_node(two_nodes, make_customer):
    node_a, node_b = two_nodes
    customer = make_customer(code="0513001", name="江苏中威科技", tcphost="61.155.85.77")
    for node in two_nodes:  # warm every worker's view of the cache
        for _ in range(4):
            assert _lookup(node, "0513001") == (HTTPStatus.OK, _lookup(node_a, "0513001")[1])

    services.customer_update(customer=customer, data={"tcphost": "im.zwtx.cn", "name": "中威通讯"})

    for node in (node_a, node_b, node_a, node_b):
        status, body = _lookup(node, "0513001")
        assert (status, body["tcphost"], body["name"]) == (HTTPStatus.OK, "im.zwtx.cn", "中威通讯")

    services.customer_remove(customer=customer)

    assert [_lookup(node, "0513001")[0] for node in (node_a, node_b, node_a, node_b)] == [HTTPStatus.NOT_FOUND] * 4
