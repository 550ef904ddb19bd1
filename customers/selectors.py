"""Reads of the customer registry that are more than a queryset.

The client lookup (``/api/customer/info``) is the hottest path of the product:
every IM client login asks it. Its answer is cached as ready-to-send JSON bytes
per code, shared by every worker and node through the cache (Redis in
production). Readers fill the cache with ``add`` (never overwriting) and every
write to a customer overwrites it with ``set`` once its transaction has
committed, so a reader that fetched a row just before an edit can never put
the old answer back after the edit's refresh.
"""

import orjson
from django.conf import settings
from django.core.cache import cache

from .models import Customer

CONNECTION_FIELDS = (
    "code",
    "name",
    "tcphost",
    "tcpport",
    "webhost",
    "webport",
    "filehost",
    "fileport",
    "timeout",
)
_UNKNOWN = b""  # cached answer for a code that is not (or no longer) in the registry


def connection_info_cache_key(code: str) -> str:
    return f"customer-info:v1:{code}"


def _connection_info_from_db(code: str) -> bytes:
    row = Customer.objects.active().filter(code=code).values(*CONNECTION_FIELDS).first()
    return orjson.dumps(row) if row else _UNKNOWN


def connection_info_json(*, code: str) -> bytes | None:
    """The lookup answer for ``code`` as JSON bytes, or None when no active customer has it."""
    key = connection_info_cache_key(code)
    payload = cache.get(key)
    if payload is None:
        payload = _connection_info_from_db(code)
        cache.add(key, payload, settings.CUSTOMER_INFO_CACHE_SECONDS)
    return payload or None


def connection_info_refresh(*codes: str) -> None:
    """Overwrite the cached answers for ``codes`` with what the database says now."""
    cache.set_many(
        {connection_info_cache_key(code): _connection_info_from_db(code) for code in set(codes) if code},
        settings.CUSTOMER_INFO_CACHE_SECONDS,
    )
