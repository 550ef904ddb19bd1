"""The production server's settings (zwadmin/serve.py): granian's, for this app, each overridable.

The server itself is run by tests/test_serving.py (limits, log, reload, respawn) and tests/test_security.py (it
refuses debug mode); these check what it is started with.
"""

import os

import pytest

from zwadmin import serve

SERVER_VARIABLES = [
    "PORT",
    "GRANIAN_INTERFACE",
    "GRANIAN_HOST",
    "GRANIAN_PORT",
    "GRANIAN_HTTP",
    "GRANIAN_WEBSOCKETS",
    "GRANIAN_WORKERS",
    "GRANIAN_BLOCKING_THREADS",
    "GRANIAN_RESPAWN_FAILED_WORKERS",
    "GRANIAN_WORKERS_LIFETIME",
    "GRANIAN_WORKERS_MAX_RSS",
    "GRANIAN_WORKERS_KILL_TIMEOUT",
    "GRANIAN_LOG_ACCESS_ENABLED",
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_THRESHOLD_",
]


@pytest.fixture
def server_environment(monkeypatch):
    """An environment without any of the server's variables; returns a function that applies the defaults."""
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def apply(**variables: str) -> dict[str, str]:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        serve.set_defaults()
        return {name: os.environ.get(name) for name in SERVER_VARIABLES}

    return apply


def test_by_default_it_serves_django_over_wsgi_on_localhost_with_a_worker_per_core(server_environment, monkeypatch):
    monkeypatch.setattr(serve, "cores", lambda: 6)

    settings = server_environment()

    assert settings["GRANIAN_INTERFACE"] == "wsgi"
    assert (settings["GRANIAN_HOST"], settings["GRANIAN_PORT"]) == ("127.0.0.1", "8000")
    assert settings["GRANIAN_WORKERS"] == "6"
    assert settings["GRANIAN_BLOCKING_THREADS"] == str(serve.default_threads())
    assert serve.TARGET == "zwadmin.wsgi:served"


def test_dead_workers_are_replaced_and_live_ones_recycled(server_environment):
    settings = server_environment()

    assert settings["GRANIAN_RESPAWN_FAILED_WORKERS"] == "true"
    assert settings["GRANIAN_WORKERS_LIFETIME"] == "6h"
    assert int(settings["GRANIAN_WORKERS_MAX_RSS"]) > 300  # above the largest legitimate peak (docs/performance.md)
    assert int(settings["GRANIAN_WORKERS_KILL_TIMEOUT"]) >= 10  # longer than the slowest legitimate request


def test_the_request_log_is_the_apps_not_granians(server_environment):
    assert server_environment()["GRANIAN_LOG_ACCESS_ENABLED"] == "false"


def test_port_moves_the_server(server_environment):
    assert server_environment(PORT="8123")["GRANIAN_PORT"] == "8123"


def test_every_setting_yields_to_granians_own_variable(server_environment):
    settings = server_environment(
        PORT="8123", GRANIAN_PORT="9000", GRANIAN_WORKERS="3", GRANIAN_BLOCKING_THREADS="8", GRANIAN_HOST="10.0.0.5"
    )

    assert (settings["GRANIAN_PORT"], settings["GRANIAN_WORKERS"], settings["GRANIAN_BLOCKING_THREADS"]) == (
        "9000",
        "3",
        "8",
    )
    assert settings["GRANIAN_HOST"] == "10.0.0.5"


def test_cores_counts_the_cpus_this_process_may_use():
    assert 1 <= serve.cores()


def test_glibc_is_told_to_return_memory_and_the_server_restarts_once_to_use_it(server_environment):
    server_environment()

    assert serve.malloc_settings_missing() is True  # set now: the process starts again with them
    assert (os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"]) == ("2", "131072")
    assert serve.malloc_settings_missing() is False  # the second start serves


def test_the_memory_settings_yield_to_the_operators(server_environment):
    server_environment(MALLOC_ARENA_MAX="4", MALLOC_MMAP_THRESHOLD_="65536")

    assert serve.malloc_settings_missing() is False
    assert (os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"]) == ("4", "65536")
