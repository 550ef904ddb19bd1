"""The production URLconf plus ``/bench/constant``: the lookup benchmark's baseline (bench-only)."""

from django.http import JsonResponse
from django.urls import re_path

from zwadmin.urls import handler400, handler403, handler404, handler500
from zwadmin.urls import urlpatterns as production_urlpatterns

# The shape and size of a lookup answer (docs/protocol.md), built once: the view does no work of its own.
CONSTANT_ANSWER = {
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


def constant(request):
    """The fastest answer this stack can give: Django's middleware, then a fixed ``JsonResponse``."""
    return JsonResponse(CONSTANT_ANSWER, json_dumps_params={"ensure_ascii": False})


def _with_constant(patterns: list) -> list:
    """The production patterns with the constant view just before ``telemetry.urls``, whose first path is the
    lookup: Django tries the same patterns before reaching either, so both pay the same URL resolution."""
    position = next(
        index
        for index, pattern in enumerate(patterns)
        if getattr(getattr(pattern, "urlconf_module", None), "__name__", "") == "telemetry.urls"
    )
    constant_pattern = re_path(r"^bench/constant/?$", constant, name="bench-constant")
    return [*patterns[:position], constant_pattern, *patterns[position:]]


urlpatterns = _with_constant(production_urlpatterns)

__all__ = ["urlpatterns", "handler400", "handler403", "handler404", "handler500"]
