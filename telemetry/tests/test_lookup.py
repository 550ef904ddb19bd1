"""The client lookup /api/customer/info (docs/protocol.md, "/api/customer/info")."""

from http import HTTPStatus

import pytest
from django.conf import settings

from customers import services
from telemetry.throttles import UnknownCodeLookupThrottle

CONNECTION_KEYS = {"code", "name", "tcphost", "tcpport", "webhost", "webport", "filehost", "fileport", "timeout"}


@pytest.fixture
def unknown_rate(monkeypatch):
    """Set the distinct-unknown-codes allowance per client address for one test."""

    def set_rate(rate: str):
        monkeypatch.setitem(UnknownCodeLookupThrottle.THROTTLE_RATES, "lookup_unknown", rate)

    return set_rate


@pytest.mark.django_db
def test_lookup_returns_the_connection_settings_of_the_document_example(client, jiangsu):
    response = client.get("/api/customer/info", {"code": "0513001"})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "code": "0513001",
        "name": "江苏中威科技",
        "tcphost": "61.155.85.77",
        "tcpport": 10003,
        "webhost": "61.155.85.77",
        "webport": 10001,
        "filehost": "61.155.85.77",
        "fileport": 10004,
        "timeout": "2016-09-21",
    }
    assert "江苏中威科技".encode() in response.content  # Chinese unescaped


@pytest.mark.django_db
def test_lookup_never_reveals_contact_phone_engineer_or_licensed_mac(client, jiangsu):
    response = client.get("/api/customer/info", {"code": "0513001"})

    assert set(response.json()) == CONNECTION_KEYS
    for secret in ("杨燕龙", "15151390310", "宋卫南", "56:E8:F6:23:EF", str(jiangsu.id)):
        assert secret.encode() not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/customer/info", "/api/customer/info/"])
def test_lookup_answers_with_and_without_trailing_slash_without_redirect(client, jiangsu, path):
    assert client.get(path, {"code": "0513001"}).status_code == HTTPStatus.OK
    assert client.post(path, {"code": "0513001"}).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_lookup_by_post_accepts_form_json_and_a_code_in_the_url(client, jiangsu):
    form = client.post("/api/customer/info", {"code": "0513001"})
    json_body = client.post("/api/customer/info", {"code": "0513001"}, content_type="application/json")
    in_url = client.post("/api/customer/info?code=0513001")

    assert [r.status_code for r in (form, json_body, in_url)] == [HTTPStatus.OK] * 3
    assert form.json() == json_body.json() == in_url.json()


@pytest.mark.django_db
def test_lookup_answers_json_whatever_the_client_accepts(client, jiangsu):
    response = client.get("/api/customer/info", {"code": "0513001"}, HTTP_ACCEPT="text/html")
    missing = client.get("/api/customer/info", HTTP_ACCEPT="text/plain")

    assert response.json()["code"] == "0513001"
    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert missing["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_lookup_without_code_is_a_400_naming_code(client):
    response = client.get("/api/customer/info")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"detail", "errors"}
    assert "code" in response.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["0999999", "abc", "0513001' OR 1=1", "9" * 500])
def test_lookup_of_an_unknown_or_malformed_code_is_a_404_naming_code(client, jiangsu, code):
    response = client.get("/api/customer/info", {"code": code})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "code" in response.json()["errors"]


@pytest.mark.django_db
def test_removed_customer_is_not_found_and_found_again_once_restored(
    client, jiangsu, django_capture_on_commit_callbacks
):
    assert client.get("/api/customer/info", {"code": "0513001"}).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_remove(customer=jiangsu)
    assert client.get("/api/customer/info", {"code": "0513001"}).status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_restore(customer=jiangsu)
    assert client.get("/api/customer/info", {"code": "0513001"}).status_code == HTTPStatus.OK


@pytest.mark.django_db
@pytest.mark.skipif(not settings.LOOKUP_CACHE, reason="without Redis every lookup reads the database")
def test_lookup_is_served_from_cache_without_touching_the_database(client, jiangsu, django_assert_num_queries):
    client.get("/api/customer/info", {"code": "0513001"})

    with django_assert_num_queries(0):
        response = client.get("/api/customer/info", {"code": "0513001"})
    assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
@pytest.mark.skipif(settings.LOOKUP_CACHE, reason="with Redis the answer is kept in Redis")
def test_without_redis_every_lookup_reads_the_database_and_keeps_nothing(client, jiangsu, django_assert_num_queries):
    client.get("/api/customer/info", {"code": "0513001"})

    with django_assert_num_queries(2):  # the address's unknown-code count, the answer: both by primary/unique key
        response = client.get("/api/customer/info", {"code": "0513001"})
    assert response.json()["tcphost"] == "61.155.85.77"

    jiangsu.__class__.objects.filter(pk=jiangsu.pk).update(tcphost="im.zwtx.cn")  # even a write behind our back
    assert client.get("/api/customer/info", {"code": "0513001"}).json()["tcphost"] == "im.zwtx.cn"


@pytest.mark.django_db
def test_an_edit_is_visible_on_the_very_next_lookup(client, jiangsu, django_capture_on_commit_callbacks):
    client.get("/api/customer/info", {"code": "0513001"})  # cached now

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_update(customer=jiangsu, data={"tcphost": "im.zwtx.cn", "tcpport": 20003})

    assert client.get("/api/customer/info", {"code": "0513001"}).json()["tcphost"] == "im.zwtx.cn"


@pytest.mark.django_db
def test_changing_a_code_retires_the_old_code_and_serves_the_new_one(
    client, jiangsu, django_capture_on_commit_callbacks
):
    client.get("/api/customer/info", {"code": "0513001"})
    client.get("/api/customer/info", {"code": "0513002"})  # cached as unknown

    with django_capture_on_commit_callbacks(execute=True):
        services.customer_update(customer=jiangsu, data={"code": "0513002"})

    assert client.get("/api/customer/info", {"code": "0513001"}).status_code == HTTPStatus.NOT_FOUND
    assert client.get("/api/customer/info", {"code": "0513002"}).json()["name"] == "江苏中威科技"


@pytest.mark.django_db
def test_a_new_customer_is_found_even_after_its_code_was_looked_up_as_unknown(
    client, make_customer, django_capture_on_commit_callbacks
):
    assert client.get("/api/customer/info", {"code": "0571005"}).status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        make_customer(code="0571005", name="杭州西湖电子")

    assert client.get("/api/customer/info", {"code": "0571005"}).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_hundreds_of_clients_behind_one_nat_address_are_never_throttled(client, jiangsu, unknown_rate):
    unknown_rate("3/hour")
    nat = {"REMOTE_ADDR": "203.0.113.9"}

    statuses = {client.get("/api/customer/info", {"code": "0513001"}, **nat).status_code for _ in range(300)}
    # a few clients with a mistyped code retry it all morning: one distinct unknown code
    retries = {client.get("/api/customer/info", {"code": "0513010"}, **nat).status_code for _ in range(50)}

    assert statuses == {HTTPStatus.OK}
    assert retries == {HTTPStatus.NOT_FOUND}
    assert client.get("/api/customer/info", {"code": "0513001"}, **nat).status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_probing_many_unknown_codes_gets_the_address_refused_even_for_real_codes(client, jiangsu, unknown_rate):
    unknown_rate("3/hour")
    prober = {"REMOTE_ADDR": "198.51.100.7"}

    probes = [client.get("/api/customer/info", {"code": f"05130{n:02d}"}, **prober).status_code for n in range(2, 6)]
    real = client.get("/api/customer/info", {"code": "0513001"}, **prober)
    bystander = client.get("/api/customer/info", {"code": "0513001"}, REMOTE_ADDR="192.0.2.1")

    assert probes == [HTTPStatus.NOT_FOUND] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert real.status_code == HTTPStatus.TOO_MANY_REQUESTS  # a 200 here would tell the prober what exists
    assert "Retry-After" in real
    assert real.json()["detail"]
    assert bystander.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_a_made_up_forwarded_for_header_does_not_dodge_the_throttle(client, jiangsu, unknown_rate):
    unknown_rate("3/hour")
    prober = {"REMOTE_ADDR": "198.51.100.7"}

    statuses = [
        client.get(
            "/api/customer/info", {"code": f"05130{n:02d}"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}", **prober
        ).status_code
        for n in range(2, 6)
    ]

    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
