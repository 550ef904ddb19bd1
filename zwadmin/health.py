"""``/healthz``: can this node serve? For load balancers, monitoring and ``make serve``.

Anonymous and cheap: one ``SELECT 1`` and one cache round trip, no session, no throttle. 200 when
both answer, 503 naming the part that does not. The reason stays in this node's log, not in the
answer, which anyone on the internet may read.
"""

import logging
import uuid
from http import HTTPStatus

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .machine import machine_view

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    # A write and a read back: a Redis that accepts connections but cannot write (full, read-only
    # replica) is not healthy for throttles and the lookup cache.
    key, token = "healthz", uuid.uuid4().hex
    cache.set(key, token, 30)
    if cache.get(key) is None:
        raise RuntimeError("the cache lost a value it was just given")


CHECKS = {"database": _database, "cache": _cache}


@machine_view  # probed every few seconds by load balancers: none of the console's middleware
@never_cache
@require_safe
def healthz(request):
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:
            logger.exception("healthz: %s unavailable", name)
            report[name] = UNAVAILABLE
        else:
            report[name] = OK
    failing = [name for name, state in report.items() if state != OK]
    if not failing:
        return JsonResponse(report)
    report["detail"] = _("Unavailable: %(parts)s.") % {"parts": ", ".join(failing)}
    return JsonResponse(report, status=HTTPStatus.SERVICE_UNAVAILABLE, json_dumps_params={"ensure_ascii": False})
