"""docs/configuration.md documents exactly the environment variables the settings and the server read.

What is read comes from the code, not from a list kept by hand: every read of the environment in
``zwadmin/settings.py`` and ``zwadmin/serve.py`` (``env.bool("NAME", …)`` and django-environ's other
readers, ``os.environ["NAME"]``, ``os.environ.get("NAME")``, ``os.environ.setdefault("NAME", …)`` (the server's
defaults: a read of a variable an operator may set), ``os.getenv("NAME")``, ``"NAME" in os.environ``) must name
its variable with a string literal, and is found with ``ast``. What is documented is every
backticked name in the first column of the document's tables.

Then how the settings read a few values that django-environ alone would read differently.
"""

import ast
import inspect
import re
import types
from collections import Counter
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "zwadmin" / "settings.py"
SERVER = ROOT / "zwadmin" / "serve.py"
READERS = [SETTINGS, SERVER]
DOCUMENT = ROOT / "docs" / "configuration.md"


def _first_parameter(function) -> inspect.Parameter | None:
    parameters = list(inspect.signature(function).parameters.values())[1:]  # after self
    return parameters[0] if parameters and parameters[0].name == "var" else None


# django-environ's readers: every method of Env whose first parameter is the variable (str, bool, int, list,
# db, cache …), with the variable it reads when called without one (db → DATABASE_URL, cache → CACHE_URL).
ENV_READERS = {
    name: _first_parameter(method)
    for name, method in inspect.getmembers(environ.Env, inspect.isfunction)
    if _first_parameter(method) is not None
}


def _is_os_environ(node) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _is_os_getenv(node) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "getenv"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _is_env_constructor(node) -> bool:
    """``environ.Env(…)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "Env"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "environ"
    )


def environment_reads(path: Path) -> tuple[dict[str, list[int]], list[str]]:
    """The variables the module at ``path`` reads (name → lines), and the reads it makes without a literal name.

    Every use of ``os.environ``, ``os.getenv`` or a django-environ ``Env`` must be one of the reads this
    understands: anything else (a name built at run time, ``os.environ.items()``) is returned as not understood,
    so that no read can hide from the document.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    env_names = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_env_constructor(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def is_env(node) -> bool:
        return (isinstance(node, ast.Name) and node.id in env_names) or _is_env_constructor(node)

    reads: dict[str, list[int]] = {}
    understood: set[int] = set()  # id() of each os.environ / os.getenv / env node that is part of a read
    not_understood: list[str] = []

    def read(name_node, default: str | None, receiver, line: int) -> None:
        understood.add(id(receiver))
        if name_node is None and default is not None:
            reads.setdefault(default, []).append(line)
        elif isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            reads.setdefault(name_node.value, []).append(line)
        else:
            not_understood.append(f"{path.name}:{line}: the variable's name is not a string literal")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "var"), None)
            if is_env(func):  # env("NAME", …)
                read(first, None, func, node.lineno)
            elif isinstance(func, ast.Attribute) and is_env(func.value) and func.attr in ENV_READERS:
                default = ENV_READERS[func.attr].default
                read(first, default if isinstance(default, str) else None, func.value, node.lineno)
            elif (
                isinstance(func, ast.Attribute)
                and _is_os_environ(func.value)
                and func.attr in {"get", "pop", "setdefault"}
            ):
                read(first, None, func.value, node.lineno)
            elif _is_os_getenv(func):
                read(first, None, func, node.lineno)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
            read(node.slice, None, node.value, node.lineno)
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and _is_os_environ(node.comparators[0])
        ):
            read(node.left, None, node.comparators[0], node.lineno)

    for node in ast.walk(tree):
        receiver = _is_os_environ(node) or _is_os_getenv(node) or (is_env(node) and isinstance(node, ast.Name))
        if receiver and isinstance(getattr(node, "ctx", ast.Load()), ast.Load) and id(node) not in understood:
            not_understood.append(f"{path.name}:{node.lineno}: {ast.unparse(node)} used other than as a read")
    return reads, not_understood


def read_variables() -> dict[str, list[str]]:
    """Every variable read, with where (``settings.py:27``)."""
    found: dict[str, list[str]] = {}
    for path in READERS:
        for name, lines in environment_reads(path)[0].items():
            found.setdefault(name, []).extend(f"{path.name}:{line}" for line in lines)
    return found


def documented_variables() -> list[str]:
    """The backticked names of the first column of every table of the document, in order, repeats kept."""
    names = []
    for line in DOCUMENT.read_text().splitlines():
        if not line.startswith("|") or re.fullmatch(r"[\s|:-]+", line):
            continue
        first_cell = line.split("|")[1].strip()
        if first_cell == "variable":  # the header row
            continue
        found = re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell)
        assert found, f"docs/configuration.md: a table row names no `VARIABLE` in its first column: {line}"
        names += found
    return names


def test_every_read_names_its_variable():
    assert [problem for path in READERS for problem in environment_reads(path)[1]] == []


def test_every_variable_read_is_documented():
    documented = set(documented_variables())

    undocumented = {name: where for name, where in read_variables().items() if name not in documented}

    assert undocumented == {}, "read but not in docs/configuration.md"


def test_every_variable_documented_is_read():
    read = read_variables()

    assert [name for name in documented_variables() if name not in read] == [], "documented but read nowhere"


def test_each_variable_is_documented_once():
    assert [name for name, count in Counter(documented_variables()).items() if count > 1] == []


def test_the_reads_are_found_in_both_files():
    # A guard on the guard: if the parser stopped seeing a kind of read, the sets above would shrink together.
    reads = read_variables()

    assert {"DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "ZWADMIN_STALE_DAYS", "PORT"} <= set(reads)
    assert {"GRANIAN_WORKERS", "GRANIAN_BLOCKING_THREADS"} <= set(reads)  # the server's defaults (setdefault)
    assert any(where.startswith("serve.py") for where in reads["DJANGO_DEBUG"])


# How the settings read the environment where django-environ alone would read it differently.


@pytest.fixture
def load_settings(monkeypatch):
    """Runs zwadmin/settings.py afresh in an environment holding only the given variables of those it reads."""

    def load(**variables: str) -> types.ModuleType:
        for name in read_variables():
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        module = types.ModuleType("settings_under_test")
        module.__file__ = str(SETTINGS)
        exec(compile(SETTINGS.read_text(), str(SETTINGS), "exec"), module.__dict__)  # noqa: S102
        return module

    return load


PRODUCTION = {"DJANGO_SECRET_KEY": "a-production-key"}


def test_without_a_secret_key_production_refuses_to_start(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"):
        load_settings(DJANGO_DEBUG="")


def test_a_secret_key_beginning_with_a_dollar_is_taken_as_it_is(load_settings):
    # django-environ would read "$abc…" as "the variable abc…".
    assert load_settings(DJANGO_SECRET_KEY="$abc-key").SECRET_KEY == "$abc-key"


def test_debug_runs_with_nothing_else_set(load_settings):
    settings = load_settings(DJANGO_DEBUG="1")

    assert settings.DEBUG is True
    assert settings.ALLOWED_HOSTS == ["localhost", "127.0.0.1", "[::1]"]
    assert settings.DATABASES["default"]["NAME"] == str(ROOT / "db.sqlite3")
    # No per-process state even in development: the cache is a table of the database (zwadmin/storage.py).
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert settings.LOOKUP_CACHE is False


def test_the_embedded_sqlite_file_queues_its_writers(load_settings):
    options = load_settings(DJANGO_DEBUG="1").DATABASES["default"]["OPTIONS"]

    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 10
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.parametrize("value", [None, ""])
def test_https_switches_unset_or_empty_stay_on_in_production(load_settings, value):
    blank = {} if value is None else {"DJANGO_SECURE_SSL_REDIRECT": value, "DJANGO_SECURE_COOKIES": value}

    settings = load_settings(**PRODUCTION, **blank)

    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SESSION_COOKIE_SECURE is settings.CSRF_COOKIE_SECURE is True


def test_https_switches_can_be_turned_off(load_settings):
    settings = load_settings(**PRODUCTION, DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_SECURE_COOKIES="false")

    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.SESSION_COOKIE_SECURE is settings.CSRF_COOKIE_SECURE is False


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("0", 0), ("2", 2)])
def test_num_proxies(load_settings, value, expected):
    variables = {} if value is None else {"DJANGO_NUM_PROXIES": value}

    assert load_settings(**PRODUCTION, **variables).NUM_PROXIES == expected


@pytest.mark.parametrize(("value", "expected"), [(None, "3600/hour"), ("", None), ("10/minute", "10/minute")])
def test_an_empty_commit_rate_means_no_limit(load_settings, value, expected):
    variables = {} if value is None else {"ZWADMIN_COMMIT_RATE": value}

    assert load_settings(**PRODUCTION, **variables).REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["commit"] == expected


def test_hosts_and_origins_are_comma_separated(load_settings):
    settings = load_settings(
        **PRODUCTION,
        DJANGO_ALLOWED_HOSTS=" console.example.com , 10.0.0.5",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://console.example.com",
    )

    assert settings.ALLOWED_HOSTS == ["console.example.com", "10.0.0.5"]
    assert settings.CSRF_TRUSTED_ORIGINS == ["https://console.example.com"]


def test_postgresql_gets_pooled_checked_connections_and_a_connect_timeout(load_settings):
    database = load_settings(
        **PRODUCTION, DATABASE_URL="postgres://zw:p%40ss@db:5432/zwadmin?sslmode=require", DJANGO_CONN_MAX_AGE="0"
    ).DATABASES["default"]

    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "zwadmin",
        "USER": "zw",
        "PASSWORD": "p@ss",
        "HOST": "db",
        "PORT": 5432,
        "OPTIONS": {"sslmode": "require", "connect_timeout": 5},
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }


@pytest.mark.parametrize(
    "url", ["postgres://%2Frun%2Fpostgresql/zwadmin", "postgres:////run/postgresql/zwadmin"], ids=["quoted", "path"]
)
def test_a_unix_socket_host(load_settings, url):
    database = load_settings(**PRODUCTION, DATABASE_URL=url).DATABASES["default"]

    assert (database["HOST"], database["NAME"]) == ("/run/postgresql", "zwadmin")


def test_redis_uses_our_backend_with_its_near_cache_and_timeouts(load_settings):
    cache = load_settings(**PRODUCTION, REDIS_URL="redis://:secret@redis:6379/3?health_check_interval=10").CACHES[
        "default"
    ]

    assert cache["BACKEND"] == "zwadmin.cache.RedisCache"
    assert cache["LOCATION"] == "redis://:secret@redis:6379/3?health_check_interval=10"  # as given, to redis-py
    assert cache["KEY_PREFIX"] == "zwadmin"
    assert cache["NEAR_CACHE"]["PREFIXES"] == ["customer-info:", "throttle_lookup_unknown_"]
    assert cache["OPTIONS"] == {"socket_connect_timeout": 2, "socket_timeout": 2}


def test_stale_days(load_settings):
    assert load_settings(**PRODUCTION).TELEMETRY_STALE_DAYS == 7
    assert load_settings(**PRODUCTION, ZWADMIN_STALE_DAYS="3").TELEMETRY_STALE_DAYS == 3


def test_the_production_environment_example_names_only_documented_variables():
    example = (ROOT / "deploy" / "zwadmin.env.example").read_text()
    named = re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.M)

    assert named
    assert [name for name in named if name not in documented_variables()] == []
