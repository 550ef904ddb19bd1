"""`manage.py prune_reports`: report history older than the retention age goes, in bounded batches."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from telemetry.models import ServerReport, ServerStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(make_customer):
    return make_customer(code="0513001")


@pytest.fixture
def report(customer):
    def make(days_ago: float, **fields):
        return ServerReport.objects.create(
            customer=customer, reported_at=timezone.now() - datetime.timedelta(days=days_ago), count=178, **fields
        )

    return make


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_reports", *args, stdout=out)
    return out.getvalue()


def test_reports_older_than_the_age_are_deleted_and_recent_ones_kept(report):
    old = [report(401), report(500), report(3000)]
    recent = [report(0), report(399), report(10)]

    output = prune("--older-than-days", "400")

    assert set(ServerReport.objects.values_list("id", flat=True)) == {r.id for r in recent}
    assert not ServerReport.objects.filter(id__in=[r.id for r in old]).exists()
    assert "Deleted 3 server reports" in output


def test_the_default_age_comes_from_the_settings(report, settings):
    settings.TELEMETRY_REPORT_RETENTION_DAYS = 30
    report(31)
    kept = report(29)

    call_command("prune_reports", stdout=StringIO())

    assert list(ServerReport.objects.values_list("id", flat=True)) == [kept.id]


def test_the_default_retention_is_400_days():
    from django.conf import settings

    assert settings.TELEMETRY_REPORT_RETENTION_DAYS == 400


def test_batches_are_bounded_each_in_its_own_delete(report):
    for days in range(401, 406):
        report(days)
    report(1)

    with CaptureQueriesContext(connection) as queries:
        output = prune("--older-than-days", "400", "--batch-size", "2")

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3
    assert "Deleted 5 server reports" in output
    assert "in 3 batches" in output
    assert ServerReport.objects.count() == 1


def test_the_latest_status_is_never_pruned(customer, report):
    long_ago = timezone.now() - datetime.timedelta(days=900)
    ServerStatus.objects.create(customer=customer, reported_at=long_ago, first_reported_at=long_ago, reports=1)
    report(900)

    prune("--older-than-days", "400")

    assert not ServerReport.objects.exists()
    status = ServerStatus.objects.get(customer=customer)
    assert status.reported_at == long_ago


def test_nothing_to_prune_says_so(report):
    report(1)

    assert "Deleted 0 server reports" in prune()
    assert ServerReport.objects.count() == 1


@pytest.mark.parametrize("option", ["--older-than-days", "--batch-size"])
def test_a_zero_or_negative_bound_is_refused(option):
    with pytest.raises(CommandError):
        call_command("prune_reports", option, "0", stdout=StringIO(), stderr=StringIO())
