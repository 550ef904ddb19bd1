"""Evaluation: a fixed number of queries whatever the fleet, one open alert per condition enforced by the
database, and what operators do (acknowledge, silence)."""

import dataclasses
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert, OutboxMessage, Rule, RuleKey
from alerts.services import alert_acknowledge, alert_silence, alerts_evaluate
from telemetry.models import UnregisteredServer

from .conftest import texts


def _fleet(make_customer, report_from, start: int, size: int):
    """``size`` customers in every kind of trouble: silent, expired, expiring, MAC mismatch, user count jump."""
    today = timezone.localdate()
    for number in range(start, start + size):
        customer = make_customer(
            code=f"07{number:05d}", mac="56:E8:F6:23:EF", timeout=today + datetime.timedelta(days=number % 40 - 5)
        )
        report_from(customer, ago=datetime.timedelta(hours=30), count=1000)
        report_from(customer, ago=datetime.timedelta(hours=number % 3 * 30), count=10, mac="AA:BB:CC:DD:EE:FF")
    now = timezone.now()
    UnregisteredServer.objects.create(code=f"09{start:05d}", first_seen_at=now, last_seen_at=now)


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured)


def test_evaluation_costs_the_same_queries_for_a_small_and_a_larger_fleet(
    make_customer, report_from, make_channel, run_alerts
):
    make_channel()
    _fleet(make_customer, report_from, 0, 3)
    small_first = _queries(alerts_evaluate)
    small_again = _queries(alerts_evaluate)

    _fleet(make_customer, report_from, 3, 30)
    large_first = _queries(alerts_evaluate)
    large_again = _queries(alerts_evaluate)

    assert Alert.objects.filter(resolved_at__isnull=True).count() > 33 * 2
    assert small_first == large_first  # opening 3 alerts or 80 costs the same
    assert small_again == large_again  # and so does finding that nothing changed


def test_the_database_refuses_a_second_open_alert_for_one_condition(make_customer):
    customer = make_customer()
    rule = Rule.objects.get(key=RuleKey.SILENT)
    now = timezone.now()
    Alert.objects.create(rule=rule, customer=customer, code=customer.code, since=now)

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(rule=rule, customer=customer, code=customer.code, since=now)
    Alert.objects.filter(customer=customer).update(resolved_at=now)
    Alert.objects.create(rule=rule, customer=customer, code=customer.code, since=now)  # a new episode: fine


def test_an_alert_another_evaluator_opened_first_is_neither_duplicated_nor_announced(
    make_customer, report_from, make_channel, monkeypatch
):
    import alerts.services

    make_channel()
    for code in ("0513001", "0512003"):
        report_from(make_customer(code=code), ago=datetime.timedelta(hours=50))
    real = alerts.services._open

    def race(subjects, rules, now):  # another node opens one of them between our read and our insert
        first = subjects[0]
        Alert.objects.create(rule=first.rule, customer_id=first.customer_id, code=first.code, since=now)
        return real(subjects, rules, now)

    monkeypatch.setattr(alerts.services, "_open", race)
    result = alerts_evaluate(families=alerts.rules.FAMILIES[:1])

    assert result.opened == 1
    assert Alert.objects.count() == 2
    assert OutboxMessage.objects.count() == 1


def test_acknowledging_records_who_and_when_and_the_resolution_says_so(
    make_customer, report_from, make_channel, robots, run_alerts, admin_user
):
    customer = make_customer()
    report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel()
    run_alerts()

    assert alert_acknowledge(alerts=Alert.objects.all(), by=admin_user) == 1
    assert alert_acknowledge(alerts=Alert.objects.all(), by=admin_user) == 0  # once
    report_from(customer)
    run_alerts()

    alert = Alert.objects.get()
    assert alert.acknowledged_by == admin_user and alert.acknowledged_at is not None
    assert f"> 已确认：admin，{timezone.localtime(alert.acknowledged_at):%Y-%m-%d %H:%M}" in texts(robots.messages)[1]


def test_a_silenced_condition_sends_nothing_until_its_date_even_if_it_starts_again(
    make_customer, report_from, make_channel, robots, run_alerts, admin_user
):
    customer = make_customer()
    report_from(customer, ago=datetime.timedelta(hours=50))
    make_channel()
    run_alerts()
    alert_silence(
        alert=Alert.objects.get(),
        until=timezone.localdate() + datetime.timedelta(days=3),
        reason="客户机房搬迁",
        by=admin_user,
    )

    report_from(customer)  # resolves: no message while silenced
    run_alerts()
    report_from(customer, ago=datetime.timedelta(hours=50))  # starts again: still silenced
    run_alerts()

    assert len(robots.messages) == 1
    latest = Alert.objects.order_by("-id").first()
    assert (latest.silenced_until, latest.silence_reason) == (
        timezone.localdate() + datetime.timedelta(days=3),
        "客户机房搬迁",
    )

    later = timezone.now() + datetime.timedelta(days=4)
    report_from(customer, at=later)
    run_alerts(later)  # the silence is over: its resolution is announced
    assert texts(robots.messages)[-1].startswith("**【恢复】")


def test_a_silence_needs_a_reason(make_customer, admin_user):
    customer = make_customer()
    alert = Alert.objects.create(
        rule=Rule.objects.get(key=RuleKey.SILENT), customer=customer, code=customer.code, since=timezone.now()
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        alert_silence(alert=alert, until=timezone.localdate(), reason="", by=admin_user)


def test_a_rule_that_fails_is_logged_and_the_others_still_run(make_customer, report_from, make_channel):
    import alerts.rules

    report_from(make_customer(), ago=datetime.timedelta(hours=50))
    make_channel()

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    families = tuple(
        dataclasses.replace(family, subjects=broken) if family.name == "licence" else family
        for family in alerts.rules.FAMILIES
    )
    result = alerts_evaluate(families=families)

    assert result.failed == ["licence"]
    assert Alert.objects.get().rule.key == RuleKey.SILENT
