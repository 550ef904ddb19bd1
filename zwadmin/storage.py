"""Shared state without a per-process copy: the embedded default's cache table and the deployment check for it.

Every process of a deployment (the workers of one granian, the nodes behind a load balancer) must see one truth:
the lookup answers, the throttles' counts, sessions. With ``REDIS_URL`` that truth is Redis; without it, the
database: the cache is Django's ``DatabaseCache`` in the table ``zwadmin_cache``, which :func:`create_cache_table`
creates after every ``migrate`` (so ``make run``, ``make serve``, the systemd unit and the tests need no extra
step), and ``check --deploy`` warns of any cache that lives in a process's memory (``zwadmin.W002``).
"""

from django.conf import settings
from django.core import checks
from django.core.management import call_command

PER_PROCESS_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def create_cache_table(using: str = "default", **kwargs) -> None:
    """``post_migrate``: create the database cache's table if a ``DatabaseCache`` is configured (idempotent)."""
    if any(cache["BACKEND"].endswith(".db.DatabaseCache") for cache in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=0)


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """zwadmin.W002: a cache in each process's memory would give each worker its own throttles and answers."""
    return [
        checks.Warning(
            f"The cache {alias!r} ({cache['BACKEND']}) lives in each process's memory: every worker would keep "
            "its own throttle counts and session-independent state. Set REDIS_URL, or leave CACHES as "
            "zwadmin/settings.py sets it (the database cache).",
            hint="docs/deployment.md, 'One machine, several workers'.",
            id="zwadmin.W002",
        )
        for alias, cache in settings.CACHES.items()
        if cache["BACKEND"] in PER_PROCESS_BACKENDS
    ]
