"""WSGI entry points.

``application`` is Django's (``WSGI_APPLICATION``: ``runserver``); ``served`` is what the production server runs
(``python -m zwadmin.serve``, granian): the same application inside the request log (zwadmin/access_log.py),
given each request without the server process's own environment.
"""

import os

from django.core.wsgi import get_wsgi_application

from zwadmin.access_log import RequestLog

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zwadmin.settings")

# What a request's environ may hold besides its HTTP_* headers (PEP 3333, CGI 1.1).
REQUEST_KEYS = frozenset(
    (
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_HOST",
        "REMOTE_PORT",
        "GATEWAY_INTERFACE",
        "SERVER_SOFTWARE",
        "RAW_URI",
    )
)


class WithoutProcessEnvironment:
    """granian copies its process's whole environment into every request's environ: ``DATABASE_URL``,
    ``DJANGO_SECRET_KEY`` and the mail password would then be in ``request.META``, where an error report or a
    debugging aid could show them. They are dropped before Django sees the request."""

    def __init__(self, application):
        self.application = application
        self.process_keys = frozenset(
            key for key in os.environ if not key.startswith("HTTP_") and key not in REQUEST_KEYS
        )

    def __call__(self, environ, start_response):
        for key in self.process_keys:
            environ.pop(key, None)
        return self.application(environ, start_response)


application = get_wsgi_application()
served = RequestLog(WithoutProcessEnvironment(application))
