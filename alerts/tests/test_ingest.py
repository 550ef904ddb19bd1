"""State changes ingest sees are queued at once (telemetry.signals.reports_committed), at a fixed cost."""

import datetime
import urllib.parse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert, MessageKind, OutboxMessage, Resolution, RuleKey
from telemetry.services import server_report_commit, user_batch_commit


def server_commit(client, **fields):
    body = urllib.parse.urlencode({"code": "0513001", "name": "江苏中威科技", "count": "178", **fields})
    response = client.generic("POST", "/api/server/commit", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 404), response.content
    return response


@pytest.fixture
def customer(make_customer):
    return make_customer(mac="56:E8:F6:23:EF", timeout=datetime.date(2098, 1, 1))


def test_a_server_reporting_another_mac_opens_its_alert_at_once_and_closes_it_at_once(
    customer, make_channel, api_client, django_capture_on_commit_callbacks
):
    make_channel()
    with django_capture_on_commit_callbacks(execute=True):
        server_commit(api_client, mac="3C:52:82:1D:09:B0", timeout="2098-01-01")

    alert = Alert.objects.get(resolved_at__isnull=True)
    assert alert.rule.key == RuleKey.MAC_MISMATCH
    assert alert.details == {"registered": "56:E8:F6:23:EF", "reported": "3C:52:82:1D:09:B0"}
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == [MessageKind.OPENED]

    with django_capture_on_commit_callbacks(execute=True):
        server_commit(api_client, mac="56:E8:F6:23:EF", timeout="2098-01-01")

    alert.refresh_from_db()
    assert alert.resolution == Resolution.ENDED
    assert sorted(OutboxMessage.objects.values_list("kind", flat=True)) == [MessageKind.OPENED, MessageKind.RESOLVED]


def test_an_unregistered_code_opens_its_alert_at_once(db, make_channel, api_client, django_capture_on_commit_callbacks):
    make_channel()
    with django_capture_on_commit_callbacks(execute=True):
        server_commit(api_client, code="0999001", name="济南泉城热力")

    alert = Alert.objects.get()
    assert (alert.rule.key, alert.code, alert.customer) == (RuleKey.UNREGISTERED, "0999001", None)
    (message,) = OutboxMessage.objects.all()
    assert message.title == "【触发】未登记服务器上报：0999001（未登记）济南泉城热力"


def test_a_rolled_back_report_announces_nothing(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        server_report_commit(code="0513001", mac="3C:52:82:1D:09:B0")
    assert len(callbacks) == 1  # one call per request, run only if the transaction commits

    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                server_report_commit(code="0513001", mac="3C:52:82:1D:09:B0")
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []


def _user(code, number):
    return {
        "code": code,
        "uuid": f"u-{number}",
        "nickname": "x",
        **dict.fromkeys(("onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs"), 1),
    }


def _alert_queries(records, capture) -> int:
    with capture() as callbacks:
        user_batch_commit(records=records)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    return len(queries)


def test_the_ingest_pays_a_fixed_number_of_queries_whatever_the_batch(
    customer, make_channel, django_capture_on_commit_callbacks
):
    make_channel()

    known_only = _alert_queries([_user("0513001", n) for n in range(500)], django_capture_on_commit_callbacks)
    one_unknown = _alert_queries(
        [_user("0513001", 1), _user("0999001", 1), _user("0999001", 2)], django_capture_on_commit_callbacks
    )
    many_unknown = _alert_queries(
        [_user(f"09990{n:02d}", n) for n in range(2, 60)] + [_user("0513001", 1)], django_capture_on_commit_callbacks
    )

    assert known_only == 0  # no signal at all: nothing a user batch of known customers can change
    assert one_unknown == many_unknown
    assert Alert.objects.filter(rule__key=RuleKey.UNREGISTERED).count() == OutboxMessage.objects.count() == 59
