"""Writes to the customer registry (customers/services.py)."""

import datetime

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.selectors import connection_info_cache_key, connection_info_json
from customers.services import customer_create, customer_remove, customer_restore, customer_update

pytestmark = pytest.mark.django_db


def test_create_stores_every_document_field(make_customer):
    customer = make_customer(
        mac="56:e8:f6:23:ef",
        timeout=datetime.date(2016, 9, 21),
        contact="杨燕龙",
        ctel="15151390310",
        service_engineer="宋卫南",
    )

    stored = Customer.objects.get(pk=customer.pk)
    assert stored.code == "0513001"
    assert stored.name == "江苏中威科技"
    assert stored.mac == "56:E8:F6:23:EF"
    assert (stored.tcphost, stored.tcpport) == ("61.155.85.77", 10003)
    assert (stored.webhost, stored.webport) == ("61.155.85.77", 10001)
    assert (stored.filehost, stored.fileport) == ("61.155.85.77", 10004)
    assert stored.timeout == datetime.date(2016, 9, 21)
    assert (stored.contact, stored.ctel, stored.service_engineer) == ("杨燕龙", "15151390310", "宋卫南")
    assert stored.removed_at is None


def test_create_needs_only_code_and_name():
    customer = customer_create(code="0513001", name="江苏中威科技")

    assert Customer.objects.get(pk=customer.pk).tcpport is None


def test_create_normalises_the_mac():
    customer = customer_create(code="0513001", name="江苏中威科技", mac="56-e8-f6-23-ef")

    assert Customer.objects.get(pk=customer.pk).mac == "56:E8:F6:23:EF"


def test_create_rejects_unknown_fields():
    with pytest.raises(TypeError, match="removed_at"):
        customer_create(code="0513001", name="江苏中威科技", removed_at=None)


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"code": "513"}, "code"),
        ({"code": "0513-001"}, "code"),
        ({"name": ""}, "name"),
        ({"mac": "56:E8:F6:23"}, "mac"),
        ({"tcphost": "61.155.85"}, "tcphost"),
        ({"webhost": "bad_host!"}, "webhost"),
        ({"tcpport": 0}, "tcpport"),
        ({"webport": 65536}, "webport"),
        ({"fileport": -1}, "fileport"),
        ({"ctel": "call me"}, "ctel"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_create_reports_bad_fields_by_name_and_stores_nothing(details, field):
    arguments = {"code": "0513001", "name": "江苏中威科技", **details}

    with pytest.raises(ValidationError) as excinfo:
        customer_create(**arguments)

    assert set(excinfo.value.message_dict) == {field}
    assert not Customer.objects.exists()


def test_create_rejects_a_code_already_in_the_registry(make_customer):
    make_customer(code="0513001")

    with pytest.raises(ValidationError) as excinfo:
        customer_create(code="0513001", name="另一家公司")

    assert set(excinfo.value.message_dict) == {"code"}
    assert Customer.objects.count() == 1


def test_create_rejects_the_code_of_a_removed_customer(make_customer):
    customer_remove(customer=make_customer(code="0513001"))

    with pytest.raises(ValidationError) as excinfo:
        customer_create(code="0513001", name="另一家公司")

    assert set(excinfo.value.message_dict) == {"code"}


def test_update_changes_only_the_given_fields(make_customer):
    customer = make_customer(contact="杨燕龙")

    customer_update(customer=customer, data={"tcpport": 20003, "timeout": datetime.date(2030, 1, 1)})

    stored = Customer.objects.get(pk=customer.pk)
    assert stored.tcpport == 20003
    assert stored.timeout == datetime.date(2030, 1, 1)
    assert stored.contact == "杨燕龙"


def test_update_normalises_the_mac(make_customer):
    customer = make_customer()

    customer_update(customer=customer, data={"mac": "56e8f623ef"})

    assert Customer.objects.get(pk=customer.pk).mac == "56:E8:F6:23:EF"


def test_update_rejects_bad_values_and_keeps_the_stored_row(make_customer):
    customer = make_customer()

    with pytest.raises(ValidationError) as excinfo:
        customer_update(customer=customer, data={"tcpport": 70000})

    assert set(excinfo.value.message_dict) == {"tcpport"}
    assert Customer.objects.get(pk=customer.pk).tcpport == 10003


def test_update_rejects_the_code_of_another_customer(make_customer):
    make_customer(code="0513001")
    other = make_customer(code="0513002", name="苏州分公司")

    with pytest.raises(ValidationError) as excinfo:
        customer_update(customer=other, data={"code": "0513001"})

    assert set(excinfo.value.message_dict) == {"code"}


def test_update_rejects_unknown_fields(make_customer):
    with pytest.raises(TypeError, match="removed_at"):
        customer_update(customer=make_customer(), data={"removed_at": None})


def test_a_new_code_answers_the_lookup_and_the_old_one_stops(make_customer, django_capture_on_commit_callbacks):
    customer = make_customer(code="0513001")
    assert connection_info_json(code="0513001") is not None

    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, data={"code": "0513009"})

    assert connection_info_json(code="0513001") is None
    assert connection_info_json(code="0513009") is not None


def test_an_edit_is_visible_on_the_next_lookup(make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    assert b"10003" in connection_info_json(code=customer.code)

    with django_capture_on_commit_callbacks(execute=True):
        customer_update(customer=customer, data={"tcpport": 20003})

    assert b"20003" in connection_info_json(code=customer.code)


@pytest.mark.skipif(not settings.LOOKUP_CACHE, reason="without Redis no answer is kept")
def test_the_lookup_cache_is_refreshed_only_after_commit(make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    connection_info_json(code=customer.code)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        customer_update(customer=customer, data={"tcpport": 20003})
        assert b"10003" in cache.get(connection_info_cache_key(customer.code))

    assert len(callbacks) == 1


def test_a_removed_customer_disappears_from_the_active_registry(make_customer):
    customer = make_customer()
    kept = make_customer(code="0513002", name="苏州分公司")

    customer_remove(customer=customer)

    assert list(Customer.objects.active()) == [kept]
    assert list(Customer.objects.removed()) == [customer]
    stored = Customer.objects.get(pk=customer.pk)  # soft: the row and its history stay
    assert stored.removed_at is not None
    assert stored.is_removed


def test_removing_twice_keeps_the_first_removal_time(make_customer):
    customer = make_customer()
    customer_remove(customer=customer)
    removed_at = Customer.objects.get(pk=customer.pk).removed_at

    customer_remove(customer=Customer.objects.get(pk=customer.pk))

    assert Customer.objects.get(pk=customer.pk).removed_at == removed_at


def test_a_removed_customer_no_longer_answers_the_lookup(make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    assert connection_info_json(code=customer.code) is not None

    with django_capture_on_commit_callbacks(execute=True):
        customer_remove(customer=customer)

    assert connection_info_json(code=customer.code) is None


def test_a_restored_customer_is_back_in_the_registry_and_the_lookup(make_customer, django_capture_on_commit_callbacks):
    customer = make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        customer_remove(customer=customer)
    assert connection_info_json(code=customer.code) is None

    with django_capture_on_commit_callbacks(execute=True):
        customer_restore(customer=customer)

    assert Customer.objects.get(pk=customer.pk).removed_at is None
    assert list(Customer.objects.active()) == [customer]
    assert connection_info_json(code=customer.code) is not None


def test_restoring_an_active_customer_changes_nothing(make_customer):
    customer = make_customer()

    customer_restore(customer=customer)

    assert Customer.objects.get(pk=customer.pk).removed_at is None


def test_a_code_taken_by_a_concurrent_create_is_still_a_code_error(make_customer, monkeypatch):
    make_customer(code="0513001")
    monkeypatch.setattr(Customer, "validate_unique", lambda self, exclude=None: None)  # the other insert came later

    with pytest.raises(ValidationError) as excinfo:
        customer_create(code="0513001", name="另一家公司")

    assert set(excinfo.value.message_dict) == {"code"}
    assert Customer.objects.count() == 1


def test_a_code_taken_by_a_concurrent_update_is_still_a_code_error(make_customer, monkeypatch):
    make_customer(code="0513001")
    other = make_customer(code="0513002", name="苏州分公司")
    monkeypatch.setattr(Customer, "validate_unique", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as excinfo:
        customer_update(customer=other, data={"code": "0513001"})

    assert set(excinfo.value.message_dict) == {"code"}
    assert Customer.objects.get(pk=other.pk).code == "0513002"


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "513"},
        {"code": "0513001\n"},
        {"code": "0513-01"},
        {"tcpport": 0},
        {"webport": 65536},
        {"fileport": 70000},
    ],
)
def test_the_database_itself_refuses_what_validation_would(fields):
    from django.db import IntegrityError, transaction

    customer = Customer(**{"code": "0513001", "name": "江苏中威科技", **fields})

    with pytest.raises(IntegrityError), transaction.atomic():
        customer.save()  # no full_clean: the check constraints are the last line
