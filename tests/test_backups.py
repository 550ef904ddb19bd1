"""Backups restore what they saved (docs/operations.md "Backups").

``dumpdata``/``loaddata`` is the portable path (and the one for SQLite installs); on PostgreSQL,
``pg_dump``/``pg_restore`` into a scratch database is what operators run. The dump is XML: Django's JSON
serializer rounds times to the millisecond, XML keeps them exactly.
"""

import os
import shutil
import subprocess
import uuid
from io import StringIO

import psycopg
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection

from customers.models import Customer
from telemetry.models import ImGroup, ImUser, ServerReport, ServerStatus, UnregisteredServer

pytestmark = pytest.mark.django_db(transaction=True)

# What `dumpdata` leaves out: rebuilt by `migrate` (content types, permissions), or not worth keeping
# (sessions, lockout bookkeeping, throttle counts, lookup refreshes). Permissions and content types are
# referenced by natural key instead.
DUMP_EXCLUDES = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "admin.logentry",
    "axes",
    "zwadmin.counter",  # throttle counts of the current window
    "customers.lookuprefresh",  # refreshes owed to Redis: clear the cache after a restore instead
]


MODELS = (Customer, ServerStatus, ServerReport, ImUser, ImGroup, UnregisteredServer)


def customers() -> list[dict]:
    return list(Customer.objects.order_by("code").values())


def snapshot() -> dict[str, list[dict]]:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in MODELS}


@pytest.fixture
def demo(django_user_model):
    call_command("load_demo", stdout=StringIO())  # customers and 90 days of telemetry
    operator = django_user_model.objects.create_user("support", password="pw-for-tests-1", is_staff=True)
    operator.user_permissions.add(Permission.objects.get(codename="view_customer"))
    return operator


def test_dumpdata_and_loaddata_restore_the_demo_data(demo, tmp_path):
    before = snapshot()
    assert all(before.values()), {label: len(rows) for label, rows in before.items()}
    dump = tmp_path / "zwadmin.xml"

    call_command(
        "dumpdata",
        "--format",
        "xml",
        "--natural-foreign",
        "--natural-primary",
        *[arg for app in DUMP_EXCLUDES for arg in ("--exclude", app)],
        "--output",
        str(dump),
        stdout=StringIO(),
    )
    call_command("flush", "--no-input", stdout=StringIO())
    assert not Customer.objects.exists()
    call_command("loaddata", str(dump), stdout=StringIO())

    assert snapshot() == before
    support = type(demo).objects.get(username="support")
    assert support.check_password("pw-for-tests-1")
    assert support.has_perm("customers.view_customer")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump backs up PostgreSQL: set DATABASE_URL")
@pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"), reason="needs pg_dump, pg_restore")
def test_pg_dump_and_pg_restore_restore_the_demo_data(demo, tmp_path):
    before = customers()
    db = connection.settings_dict
    scratch = f"zwadmin_restore_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    common = ["--host", db["HOST"] or "127.0.0.1", "--port", str(db["PORT"] or 5432), "--username", db["USER"]]
    dump = tmp_path / "zwadmin.dump"
    server = {key: value for key, value in connection.get_connection_params().items() if key != "dbname"}

    subprocess.run(["pg_dump", *common, "--format=custom", "--file", str(dump), db["NAME"]], env=env, check=True)
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(
            ["pg_restore", *common, "--no-owner", "--exit-on-error", "--dbname", scratch, str(dump)],
            env=env,
            check=True,
        )
        with psycopg.connect(**server, dbname=scratch) as restored:
            columns = list(before[0])
            rows = restored.execute(
                f"SELECT {', '.join(columns)} FROM customers_customer ORDER BY code"  # noqa: S608 - our own column names
            ).fetchall()
            counts = {
                model._meta.label: restored.execute(f"SELECT count(*) FROM {model._meta.db_table}").fetchone()[0]  # noqa: S608
                for model in MODELS
            }
            migrations = restored.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    assert [dict(zip(columns, row, strict=True)) for row in rows] == before
    assert counts == {model._meta.label: model.objects.count() for model in MODELS}
    assert migrations > 0
