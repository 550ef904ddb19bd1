from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def public_url_check(app_configs, **kwargs):
    """alerts.W001: without ZWADMIN_PUBLIC_URL the messages' links are paths no chat app can open."""
    if settings.PUBLIC_URL.startswith(("http://", "https://")):
        return []
    return [
        Warning(
            "ZWADMIN_PUBLIC_URL is not an http(s) URL: alert messages cannot link to the console.",
            hint="Set it to the console's address as operators reach it, e.g. https://console.example.com.",
            id="alerts.W001",
        )
    ]
