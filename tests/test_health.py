"""/healthz: 200 when the database and the cache answer, 503 naming the part that does not."""

from contextlib import ExitStack
from http import HTTPStatus

import pytest
from django.core.cache import cache

from tests.nodes import start_node

CLOSED_PORT = 1  # nothing listens on 127.0.0.1:1: a connection is refused at once


@pytest.mark.django_db
def test_healthy_node_answers_200_with_each_part_ok(client):
    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_trailing_slash_works_too_and_anonymous_callers_are_welcome(client):
    assert client.get("/healthz/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_a_cache_that_fails_is_named_in_a_503(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "set", broken)

    response = client.get("/healthz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert (body["database"], body["cache"]) == ("ok", "unavailable")
    assert "Redis is down" not in response.content.decode()  # the reason stays in the log


def test_a_node_whose_database_is_unreachable_answers_503(tmp_path):
    with ExitStack() as stack:
        node = start_node(
            stack,
            workers=1,
            env={"DATABASE_URL": f"postgres://nobody@127.0.0.1:{CLOSED_PORT}/none", "REDIS_URL": None},
        )
        response = node.get("/healthz")

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.content_type.startswith("application/json")
    body = response.json()
    # Without Redis the cache is a table of that same database (zwadmin/storage.py): unreachable with it.
    assert (body["database"], body["cache"]) == ("unavailable", "unavailable")
    assert "database" in body["detail"]


def test_a_node_whose_redis_is_unreachable_answers_503(tmp_path):
    with ExitStack() as stack:
        node = start_node(
            stack,
            workers=1,
            env={
                "DATABASE_URL": f"sqlite:///{tmp_path / 'health.sqlite3'}",
                "REDIS_URL": f"redis://127.0.0.1:{CLOSED_PORT}/0",
            },
        )
        response = node.get("/healthz")

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert (body["database"], body["cache"]) == ("ok", "unavailable")
    assert "cache" in body["detail"]
