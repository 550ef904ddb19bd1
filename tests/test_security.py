"""Production settings: check --deploy, HTTPS for the console only, the admin login lockout, client addresses."""

import os
import secrets
import subprocess
import sys
from http import HTTPStatus

import django.conf
import pytest
from django.test import RequestFactory

from tests.nodes import PROJECT_DIR, SERVER_MODULE, node_environment
from zwadmin import serve
from zwadmin.client_address import client_ip

PRODUCTION = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "console.zwtx.cn",
    "DJANGO_NUM_PROXIES": "1",
    "DATABASE_URL": "postgres://zwadmin@db.internal:5432/zwadmin",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ZWADMIN_PUBLIC_URL": "https://console.zwtx.cn",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=node_environment(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and "?:" not in output
    assert "System check identified no issues" in output


def test_check_deploy_warns_when_num_proxies_is_not_set():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "DJANGO_NUM_PROXIES": None})

    assert result.returncode != 0
    assert "zwadmin.W001" in result.stderr
    assert "X-Forwarded-For is ignored" in result.stderr  # what the code does (client_ip), not the opposite


def test_check_deploy_warns_when_alert_messages_cannot_link_to_the_console():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "ZWADMIN_PUBLIC_URL": None})

    assert result.returncode != 0
    assert "alerts.W001" in result.stderr


def test_the_app_refuses_to_start_without_a_secret_key():
    result = manage("check", env={**PRODUCTION, "DJANGO_SECRET_KEY": None})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_is_off_unless_asked_for():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=node_environment({**PRODUCTION, "DJANGO_DEBUG": None}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "ok", "y", "2"])
def test_the_production_server_refuses_every_spelling_of_debug_mode(monkeypatch, value):
    # django-environ's reading, as the settings read it: whatever turns debug on there is refused here.
    monkeypatch.setenv("DJANGO_DEBUG", value)

    with pytest.raises(SystemExit, match="unset DJANGO_DEBUG"):
        serve.main([])


def test_the_production_server_command_exits_in_debug_mode_before_serving():
    result = subprocess.run(
        [sys.executable, "-m", SERVER_MODULE, "--port", "1"],
        cwd=PROJECT_DIR,
        env=node_environment({**PRODUCTION, "DJANGO_DEBUG": "on"}),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "unset DJANGO_DEBUG" in result.stderr


# HTTPS redirect: the console yes, the machine paths never (a redirect loses a POST body).


@pytest.fixture
def https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_the_console_is_redirected_to_https(client, https_redirect):
    response = client.get("/admin/login/")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "https://testserver/admin/login/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/customer/info?code=0513001"),
        ("post", "/api/customer/info"),
        ("post", "/api/server/commit"),
        ("post", "/api/user/commit"),
        ("get", "/api/group/commit"),
        ("get", "/customer/list"),
        ("post", "/customer/add"),
        ("post", "/customer/remove"),
        ("get", "/user/list?code=0513001"),
        ("get", "/group/list/?code=0513001"),
        ("get", "/healthz"),
    ],
)
def test_machine_paths_are_never_redirected(client, https_redirect, method, path):
    response = getattr(client, method)(path)

    assert response.status_code not in {HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.FOUND}
    assert "Location" not in response


@pytest.mark.django_db
def test_https_behind_the_proxy_is_recognised_and_gets_hsts(client, https_redirect):
    response = client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == HTTPStatus.OK
    assert response["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure(admin_user, client, https_redirect):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "password"},
        headers={"X-Forwarded-Proto": "https"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True


# The admin login lockout (django-axes).

PASSWORD = "correct horse battery staple"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user("ops", password=PASSWORD, is_staff=True)


def login(client, password: str, address: str = "198.51.100.7", forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": address}
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post("/admin/login/?next=/admin/", {"username": "ops", "password": password}, **extra)


@pytest.fixture
def failure_limit(settings):
    return settings.AXES_FAILURE_LIMIT


@pytest.mark.django_db
def test_repeated_failures_lock_the_login_even_with_the_right_password(client, operator, failure_limit):
    for _ in range(failure_limit - 1):
        assert login(client, "wrong").status_code == HTTPStatus.OK  # the form again, with an error
    assert login(client, "wrong").status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert login(client, PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
def test_the_lockout_is_per_username_and_address(client, operator, failure_limit):
    for _ in range(failure_limit):
        login(client, "wrong", address="198.51.100.7")

    assert login(client, PASSWORD, address="203.0.113.20").status_code == HTTPStatus.FOUND


@pytest.mark.django_db
def test_a_success_before_the_limit_starts_the_count_again(client, operator, failure_limit):
    for _ in range(failure_limit - 1):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == HTTPStatus.FOUND
    client.logout()

    for _ in range(failure_limit - 1):
        login(client, "wrong")
    assert login(client, PASSWORD).status_code == HTTPStatus.FOUND


@pytest.mark.django_db
def test_a_made_up_forwarded_for_does_not_dodge_the_lockout_behind_one_proxy(client, operator, settings, failure_limit):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # nginx appends the address it saw (203.0.113.9); the client writes whatever it likes before it.
    for attempt in range(failure_limit):
        login(client, "wrong", address="127.0.0.1", forwarded_for=f"10.0.0.{attempt}, 203.0.113.9")

    response = login(client, PASSWORD, address="127.0.0.1", forwarded_for="10.9.9.9, 203.0.113.9")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
def test_without_num_proxies_forwarded_for_is_not_believed_by_the_lockout(client, operator, failure_limit):
    for attempt in range(failure_limit):
        login(client, "wrong", forwarded_for=f"10.0.0.{attempt}")

    assert login(client, PASSWORD, forwarded_for="10.9.9.9").status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
def test_a_locked_out_address_still_gets_its_lookups_without_a_query(
    client, operator, failure_limit, make_customer, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(code="0513001")
    for _ in range(failure_limit + 1):
        login(client, "wrong")
    client.get("/api/customer/info", {"code": "0513001"}, REMOTE_ADDR="192.0.2.99")  # the answer is cached

    # The lockout adds nothing: with Redis no query at all; without it the lookup's own two (answer, allowance).
    with django_assert_num_queries(0 if django.conf.settings.LOOKUP_CACHE else 2):
        response = client.get("/api/customer/info", {"code": "0513001"}, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("num_proxies", "forwarded_for", "expected"),
    [
        (None, None, "192.0.2.1"),
        (None, "10.0.0.1", "192.0.2.1"),  # unset: the header is anyone's to write
        (0, "10.0.0.1", "192.0.2.1"),
        (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.1, 203.0.113.9, 192.168.1.2", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # fewer entries than proxies: the left-most
        (1, "not-an-address", "192.0.2.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_believes_only_what_our_proxies_appended(settings, num_proxies, forwarded_for, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    headers = {"REMOTE_ADDR": "192.0.2.1"}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert client_ip(RequestFactory().get("/", **headers)) == expected


def test_the_suite_runs_with_the_production_security_defaults(settings):
    # test_settings.py only turns the console's HTTPS redirect off; everything else is as in production.
    assert not settings.DEBUG
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert "DJANGO_DEBUG" not in os.environ or os.environ["DJANGO_DEBUG"] in {"", "0"}
