"""Schemathesis against /api/schema/: every operation, anonymous and as a superuser, in process.

For each operation Schemathesis draws requests from the schema (valid ones and, in its negative phase,
invalid ones) and sends them through the WSGI application; every answer must be no 500 and conform to the
schema: a documented status, content type, headers and body. Bounded (``MAX_EXAMPLES`` per operation and
identity) so CI stays within minutes. On PostgreSQL, where production runs (ingest then takes its COPY path);
on SQLite too unless ``ZWADMIN_FUZZ_SQLITE=0``, as it is quick.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from telemetry.throttles import CommitRateThrottle

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("ZWADMIN_FUZZ_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The same requests on every run, so a CI failure reproduces on a laptop; ZWADMIN_FUZZ_RANDOM=1 (with a
    # larger ZWADMIN_FUZZ_EXAMPLES) hunts further.
    derandomize=os.environ.get("ZWADMIN_FUZZ_RANDOM") != "1",
    database=None,  # and nothing written to the work tree
    suppress_health_check=list(HealthCheck),
)


# The project's WSGI application, middleware and all. Loaded at collection (no database needed); not with
# ``from_fixture``, whose lazy loading does not run under pytest 9 (it reads a node attribute pytest 9 removed).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def fuzzed(db, make_customer, monkeypatch):
    """Known customers for the generated codes to find, and allowances the fuzzer cannot use up.

    (The throttles' answers are in the schema and are tested in telemetry/tests; here they would turn
    every later request into the same 429.)
    """
    if connection.vendor == "sqlite" and os.environ.get("ZWADMIN_FUZZ_SQLITE") == "0":
        pytest.skip("ZWADMIN_FUZZ_SQLITE=0: fuzzing on PostgreSQL only")
    make_customer(code="0513001", name="江苏中威科技", mac="56:E8:F6:23:EF", timeout="2016-09-21")
    make_customer(code="0000", name="最短")
    make_customer(code="000000000000", name="最长")
    monkeypatch.setitem(CommitRateThrottle.THROTTLE_RATES, "commit", None)
    monkeypatch.setitem(CommitRateThrottle.THROTTLE_RATES, "lookup_unknown", "1000000/hour")
    # The WSGI handler closes the database connection after each request, which would end the test's
    # transaction (PostgreSQL); Django's test client keeps it open the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def superuser_token(django_user_model):
    user = django_user_model.objects.create_superuser("fuzz-admin", "fuzz@example.com", "pw-for-tests-1")
    return Token.objects.create(user=user).key


@schema.parametrize()
@FUZZ
def test_anonymous_callers_never_get_a_500_or_an_answer_outside_the_schema(case, fuzzed):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_staff_never_get_a_500_or_an_answer_outside_the_schema(case, fuzzed, superuser_token):
    case.call_and_validate(headers={"Authorization": f"Token {superuser_token}"}, checks=CHECKS)
