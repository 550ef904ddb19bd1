"""The machine paths' short way through Django (zwadmin/machine.py): the checks they need, none of the console's.

Through Django's test client, so through ``MIDDLEWARE`` as production runs it.
"""

from http import HTTPStatus

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOOKUP = "/api/customer/info"


@pytest.fixture
def client():
    return Client()


def test_a_lookup_is_answered_with_its_length_and_nosniff_and_no_console_cookie(client, jiangsu):
    response = client.get(LOOKUP, {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["code"] == "0513001"
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware runs for every request
    assert not response.cookies  # no session, no CSRF token: nothing of the console's
    assert "X-Frame-Options" not in response  # a JSON answer is nothing to frame


def test_a_console_request_still_takes_the_whole_chain(client):
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == HTTPStatus.OK
    assert response["X-Frame-Options"] == "DENY"
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("path", [LOOKUP, "/api/user/commit", "/healthz"])
def test_a_machine_path_refuses_a_host_that_is_not_allowed(client, settings, path):
    settings.ALLOWED_HOSTS = ["console.example.com"]

    response = client.get(path, {"code": "0513001"}, HTTP_HOST="attacker.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"detail": "Bad request.", "errors": {}}


def test_an_allowed_host_is_served(client, settings, jiangsu):
    settings.ALLOWED_HOSTS = ["console.example.com"]

    assert client.get(LOOKUP, {"code": "0513001"}, HTTP_HOST="console.example.com").status_code == HTTPStatus.OK


def test_the_trailing_slash_takes_the_short_way_too(client, jiangsu):
    response = client.get(f"{LOOKUP}/", {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert not response.cookies


def test_a_machine_message_is_in_the_language_asked_for_not_the_previous_requests(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    english = client.get(LOOKUP, HTTP_ACCEPT_LANGUAGE="en")
    client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en", HTTP_X_FORWARDED_PROTO="https")  # activates English

    chinese = client.get(LOOKUP)  # asks for nothing: the default, Chinese, not what this thread did last

    assert english.json()["errors"] == {"code": ["This field is required."]}
    assert chinese.json()["errors"] == {"code": ["该字段是必填项。"]}


def test_an_unknown_path_gets_the_json_404_of_the_whole_chain(client):
    response = client.get("/api/customer/nothing")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_a_commit_is_refused_by_its_size_before_it_is_read(client, settings):
    settings.TELEMETRY_MAX_BODY_BYTES = 100

    response = client.post("/api/user/commit", "data=" + "x" * 200, content_type="application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
