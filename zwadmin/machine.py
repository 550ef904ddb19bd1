"""The machine paths' short way through Django: the client lookup, the commits and ``/healthz``.

Deployed IM clients and servers call a handful of anonymous endpoints, tens of thousands of times at 9:00. The
console's middleware does nothing for them (no session, no CSRF token, no user, no flash message, no audit-trail
user, no login lockout) yet was most of what a cached lookup cost (docs/performance.md). So a view marked
``@machine_view`` is called by ``MachineViewMiddleware``, right after ``SecurityMiddleware``, with exactly the
checks these endpoints need; every other request goes down the whole chain as before.

What a machine request keeps:

- ``SecurityMiddleware`` (before this one, for every request): ``X-Content-Type-Options: nosniff``, the
  referrer and opener policies, HSTS over HTTPS; the HTTPS redirect exempts these paths anyway;
- ``ALLOWED_HOSTS``: the host is validated as ``CommonMiddleware`` validates it, a bad one is a ``400``;
- the language of its messages, from ``Accept-Language`` as ``LocaleMiddleware`` would choose it (docs/protocol.md:
  Chinese unless the request asks for English);
- ``Content-Length``, as ``CommonMiddleware`` sets it;
- its size limits and throttles, which live in the views and their services, and Django's error handling.

What it skips, and why that is safe: whitenoise (static files only), sessions, CSRF (DRF's ``APIView`` is
CSRF-exempt, and ``/healthz`` only reads), authentication (the views are anonymous: ``authentication_classes``
is empty), the audit trail's user (the machine endpoints change no audited model), messages, ``X-Frame-Options``
(a JSON answer is nothing to frame), the login lockout (the admin's login only), and whatever console middleware
comes after this one. Middleware that the machine paths need must therefore come before it in ``MIDDLEWARE``.
"""

from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation

# A path resolved to a machine view is remembered, so the next request for it skips the URL patterns. The
# machine paths are a few fixed strings (each with and without its trailing slash): this bounds the memory.
MAX_REMEMBERED_PATHS = 64


def machine_view(view):
    """Mark ``view`` as a machine endpoint: ``MachineViewMiddleware`` serves it without the console's middleware."""
    view.machine_view = True
    return view


class MachineViewMiddleware:
    """Calls machine views directly, with the checks they need; passes every other request down the chain."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.routes = {}

    def __call__(self, request):
        match = self.machine_route(request.path_info)
        if match is None:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS: DisallowedHost, answered 400 by Django as for any request
        translation.activate(translation.get_language_from_request(request))
        request.resolver_match = match
        response = match.func(request, *match.args, **match.kwargs)
        if callable(getattr(response, "render", None)):  # DRF's Response, rendered as Django's handler would
            response = response.render()
        if not response.streaming and "Content-Length" not in response:
            response.headers["Content-Length"] = str(len(response.content))
        return response

    def machine_route(self, path: str):
        """The resolver match of ``path`` if it is a machine view's, else None."""
        key = (get_urlconf(), path)
        match = self.routes.get(key)
        if match is not None:
            return match
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if not getattr(match.func, "machine_view", False):
            return None
        if len(self.routes) < MAX_REMEMBERED_PATHS:
            self.routes[key] = match
        return match
