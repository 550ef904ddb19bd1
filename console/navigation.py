"""The console's sidebar (django-unfold's ``SIDEBAR["navigation"]``): the pages grouped by the operators' tasks.

客户 (the registry); 运行监控 (what needs attention: the dashboard, silent servers, mismatches, unregistered
servers, the alerts and their rules, channels and messages); 上报数据 (what servers reported); 账号与安全
(staff, roles, tokens, login records: last, used least). Each item shows only to staff who may view its page,
and a group without a visible item is not shown at all. Links that open a filtered list are active only on
that filter, not on the whole list.
"""

from collections.abc import Callable

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.licence import LicenceState
from telemetry.states import Mismatch, ReportingState

CUSTOMERS = "admin:customers_customer_changelist"

# Which list parameters a filtered link stands for: the plain list is active when none of them is set.
FILTERED_BY = ("registry", "attention", "reporting", "mismatch", "licence", "registered", "state", "status")


def console_stylesheet(request: HttpRequest) -> str:
    """The console's own styles beside the theme's (``UNFOLD["STYLES"]``): status tones, the dashboard, charts."""
    return static("console/console.css")


def favicon(request: HttpRequest) -> str:
    return static("console/favicon.svg")


def _can(*perms: str) -> Callable[[HttpRequest], bool]:
    return lambda request: request.user.has_perms(perms)


def _link(url_name: str, **params: str) -> Callable[[HttpRequest], str]:
    def link(request: HttpRequest) -> str:
        url = reverse(url_name)
        return f"{url}?{urlencode(params)}" if params else url

    return link


def _active(url_name: str, **params: str) -> Callable[[HttpRequest], bool]:
    """Active on ``url_name``'s pages when the request carries exactly ``params`` among ``FILTERED_BY``."""

    def active(request: HttpRequest) -> bool:
        if not request.path.startswith(reverse(url_name)):
            return False
        chosen = {name: request.GET.get(name) for name in FILTERED_BY if request.GET.get(name)}
        return chosen == params

    return active


def _item(title, icon: str, url_name: str, perm: str, **params: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": _link(url_name, **params),
        "active": _active(url_name, **params),
        "permission": _can(perm),
    }


def sidebar(request: HttpRequest) -> list[dict]:
    return [
        {
            "title": _("Customers"),
            "items": [
                _item(_("Customer registry"), "apartment", CUSTOMERS, "customers.view_customer"),
                _item(
                    _("Licences expiring within 30 days"),
                    "event_upcoming",
                    CUSTOMERS,
                    "customers.view_customer",
                    licence=LicenceState.EXPIRING,
                ),
                _item(_("Removed customers"), "delete", CUSTOMERS, "customers.view_customer", registry="removed"),
            ],
        },
        {
            "title": _("Monitoring"),
            "items": [
                {
                    "title": _("Fleet overview"),
                    "icon": "dashboard",
                    "link": _link("admin:index"),
                    "active": lambda request: request.path == reverse("admin:index"),
                    "permission": _can("customers.view_customer"),
                },
                _item(
                    _("Needs attention"),
                    "notification_important",
                    CUSTOMERS,
                    "customers.view_customer",
                    attention="yes",
                ),
                _item(
                    _("Silent servers"),
                    "signal_disconnected",
                    CUSTOMERS,
                    "customers.view_customer",
                    reporting=ReportingState.SILENT,
                ),
                _item(
                    _("Differs from the registry"),
                    "rule",
                    CUSTOMERS,
                    "customers.view_customer",
                    mismatch=Mismatch.ANY,
                ),
                _item(
                    _("Unregistered servers"),
                    "device_unknown",
                    "admin:telemetry_unregisteredserver_changelist",
                    "telemetry.view_unregisteredserver",
                    registered="no",
                ),
                _item(_("Alerts"), "notifications_active", "admin:alerts_alert_changelist", "alerts.view_alert"),
                _item(_("Alert rules"), "tune", "admin:alerts_rule_changelist", "alerts.view_rule"),
                _item(_("Notification channels"), "campaign", "admin:alerts_channel_changelist", "alerts.view_channel"),
                _item(
                    pgettext_lazy("alert message", "Messages"),
                    "outgoing_mail",
                    "admin:alerts_outboxmessage_changelist",
                    "alerts.view_outboxmessage",
                ),
            ],
        },
        {
            "title": _("Reported data"),
            "items": [
                _item(
                    _("Server reports"),
                    "monitor_heart",
                    "admin:telemetry_serverreport_changelist",
                    "telemetry.view_serverreport",
                ),
                _item(_("IM users"), "person", "admin:telemetry_imuser_changelist", "telemetry.view_imuser"),
                _item(_("IM groups"), "groups", "admin:telemetry_imgroup_changelist", "telemetry.view_imgroup"),
                _item(
                    _("Server changes"),
                    "swap_horiz",
                    "admin:telemetry_serverchange_changelist",
                    "telemetry.view_serverchange",
                ),
            ],
        },
        {
            "title": _("Accounts and security"),
            "items": [
                _item(_("Staff members"), "badge", "admin:auth_user_changelist", "auth.view_user"),
                _item(_("Roles"), "shield_person", "admin:auth_group_changelist", "auth.view_group"),
                _item(_("API tokens"), "key", "admin:authtoken_tokenproxy_changelist", "authtoken.view_tokenproxy"),
                _item(_("Login attempts"), "login", "admin:axes_accessattempt_changelist", "axes.view_accessattempt"),
                _item(
                    _("Login failures"),
                    "lock_person",
                    "admin:axes_accessfailurelog_changelist",
                    "axes.view_accessfailurelog",
                ),
                _item(_("Login records"), "history", "admin:axes_accesslog_changelist", "axes.view_accesslog"),
            ],
        },
    ]
