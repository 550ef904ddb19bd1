"""``manage.py simulate_fleet`` against a live server: what it plays arrives, what it is refused it reports."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from telemetry.models import ImGroup, ImUser, ServerReport, ServerStatus, UnregisteredServer

pytestmark = pytest.mark.django_db(transaction=True)

CODES = ("0599001", "0599002", "0599003")


def simulate(live_server, **options) -> str:
    out = io.StringIO()
    # SQLite's shared in-memory test database refuses concurrent writers ("table is locked"): one at a time there.
    options.setdefault("concurrency", 1 if connection.vendor == "sqlite" else 3)
    call_command("simulate_fleet", url=live_server.url, stdout=out, **options)
    return out.getvalue()


def test_every_simulated_server_reports_its_status_users_and_groups(live_server, make_customer):
    for code in CODES:
        make_customer(code=code, name=f"客户 {code}")

    output = simulate(live_server, codes=",".join(CODES), users=250, groups=30, batch_size=100, unknown=1, seed=7)

    for code in CODES:
        assert ImUser.objects.filter(customer__code=code).count() == 250
        assert ImGroup.objects.filter(customer__code=code).count() == 30
        status = ServerStatus.objects.get(customer__code=code)
        assert status.count == 250
        assert status.name == f"模拟服务器 {code}"
    assert ServerReport.objects.count() == len(CODES)
    # The unregistered server's status is recorded as a sighting and its records are refused.
    assert UnregisteredServer.objects.filter(code="0900000").exists()
    assert "/api/user/commit" in output
    assert "Refused" in output
    requests, gets, posts, records, accepted, refused = next(
        line.split()[1:7] for line in output.splitlines() if line.startswith("/api/user/commit")
    )
    # 4 servers × 3 batches of ≤ 100 users, by GET or POST; 750 accepted, the unknown server's 250 refused.
    assert (requests, records, accepted, refused) == ("12", "1000", "750", "250")
    assert int(gets) + int(posts) == 12


def test_a_second_round_updates_the_figures_instead_of_adding_rows(live_server, make_customer):
    make_customer(code=CODES[0])
    simulate(live_server, codes=CODES[0], users=20, groups=2, seed=3)
    first = dict(ImUser.objects.values_list("uuid", "fmsgs"))

    simulate(live_server, codes=CODES[0], users=20, groups=2, seed=4, duration=0.5, interval=0.2)

    assert ImUser.objects.count() == 20
    assert ServerReport.objects.count() >= 2
    after = dict(ImUser.objects.values_list("uuid", "fmsgs"))
    assert after.keys() == first.keys()


def test_register_creates_the_missing_customers(live_server):
    output = simulate(live_server, servers=2, users=5, register=True)

    assert "Registered 2 customers" in output
    assert ImUser.objects.filter(customer__code__in=["0599000", "0599001"]).count() == 10
