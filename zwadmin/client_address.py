"""Who the client is behind the proxies, and the deployment checks that keep it unspoofable.

Throttles (DRF), the commit endpoints and the admin login lockout (django-axes) must agree on one
client address, or a client could dodge one limit by the way another reads the headers.
``NUM_PROXIES`` (``DJANGO_NUM_PROXIES``) says how many proxies of ours append to ``X-Forwarded-For``:
the address that many entries from the right is the one our nearest proxy saw; anything left of it
was written by the client and is not believed.
"""

import ipaddress

from django.conf import settings
from django.core import checks
from rest_framework.settings import api_settings


def client_ip(request) -> str | None:
    """The one client address: the throttles, the stored sender and the login lockout (``AXES_CLIENT_IP_CALLABLE``).

    Stricter than DRF's ``get_ident`` when ``NUM_PROXIES`` is unset: then ``X-Forwarded-For`` is not
    believed at all, since anyone can write it and a lockout that a header dodges protects nothing.
    """
    return environ_client_ip(request.META)


def environ_client_ip(environ) -> str | None:
    """``client_ip`` of a WSGI environ (a request's ``META``): for the request log, which runs outside Django."""
    remote_addr = environ.get("REMOTE_ADDR")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    num_proxies = api_settings.NUM_PROXIES
    if not num_proxies or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",")]
    candidate = addresses[-min(num_proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


@checks.register(checks.Tags.security, deploy=True)
def check_num_proxies(app_configs, **kwargs):
    if api_settings.NUM_PROXIES is not None or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "DJANGO_NUM_PROXIES is not set: X-Forwarded-For is ignored, so behind a proxy every client has the "
            "proxy's address. The lookup's unknown-code allowance is then shared by every client at once (a few "
            "mistyped codes anywhere refuse everyone's lookups), the login lockout locks a username out for "
            "everyone, and every report is stored as sent from the proxy.",
            hint="Set DJANGO_NUM_PROXIES to the number of proxies in front of the app server that append to "
            "X-Forwarded-For: 1 behind one nginx, 0 when clients connect to the app server directly.",
            id="zwadmin.W001",
        )
    ]
