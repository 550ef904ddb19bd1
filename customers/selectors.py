"""Reads of the customer registry that are more than a queryset.

The client lookup (``/api/customer/info``) is the hottest path of the product: every IM client login asks it.
Its answer, and how it is kept in Redis without ever going stale, is ``customers/lookup_cache.py``; these are
the names the other layers use.
"""

from django.conf import settings

from .lookup_cache import CONNECTION_FIELDS, answer_from_database, cache_key, connection_info_json, refresh

__all__ = [
    "CONNECTION_FIELDS",
    "connection_info_cache_key",
    "connection_info_from_database",
    "connection_info_json",
    "connection_info_refresh",
]

connection_info_cache_key = cache_key
connection_info_from_database = answer_from_database  # bytes; empty when no active customer has the code


def connection_info_refresh(*codes: str) -> None:
    """Overwrite the kept answers for ``codes`` with what the database says now (nothing without Redis)."""
    if settings.LOOKUP_CACHE:
        refresh(sorted({code for code in codes if code}))
