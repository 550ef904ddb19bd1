"""``{% fleet_dashboard %}``: the fleet's figures above the admin index's app list.

An inclusion tag rather than a custom AdminSite: the index template asks for it, and nothing else
about the admin changes. Shown to staff who may view customers; every figure that counts
customers links to the customer changelist filtered to exactly those customers.
"""

from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import LicenceState
from zwadmin import dashboard
from zwadmin.charts import Labels, daily_chart

register = template.Library()


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    url: str = ""
    tone: str = "neutral"  # ok, warning, danger, neutral: the console's status colours
    hint: str = ""
    parts: tuple["Figure", ...] = ()  # the figure broken down, each part with its own link


def _tone(value: int, tone: str) -> str:
    """A problem figure is coloured only when there is a problem to see."""
    return tone if value else "neutral"


@register.inclusion_tag("zwadmin/fleet_dashboard.html", takes_context=True)
def fleet_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("customers.view_customer"):
        return {"show": False}
    figures = dashboard.fleet_figures()
    changelist = reverse("admin:customers_customer_changelist")

    def customers(**params) -> str:
        return f"{changelist}?{urlencode(params)}" if params else changelist

    silent_hint = ngettext(
        "no report for more than %(hours)d hour", "no report for more than %(hours)d hours", figures.silent_after_hours
    ) % {"hours": figures.silent_after_hours}
    groups = [
        (
            _("Customers"),
            [
                Figure(_("customers in the registry"), figures.customers, customers()),
                Figure(
                    _("reported in the last 24 hours"),
                    figures.reported_last_day,
                    customers(reporting=dashboard.REPORTED_LAST_DAY),
                    "ok",
                ),
                Figure(
                    _("silent"),
                    figures.silent,
                    customers(reporting=dashboard.ReportingState.SILENT),
                    _tone(figures.silent, "warning"),
                    silent_hint,
                ),
                Figure(
                    _("never reported"),
                    figures.never_reported,
                    customers(reporting=dashboard.ReportingState.NEVER),
                    _tone(figures.never_reported, "warning"),
                ),
            ],
        ),
        (
            _("Licences and registry"),
            [
                Figure(
                    _("licences expired"),
                    figures.licence_expired,
                    customers(licence=LicenceState.EXPIRED),
                    _tone(figures.licence_expired, "danger"),
                ),
                Figure(
                    _("licences expiring within 30 days"),
                    figures.licence_expiring,
                    customers(licence=LicenceState.EXPIRING),
                    _tone(figures.licence_expiring, "warning"),
                ),
                Figure(
                    _("reported MAC or licence expiry differs from the registry"),
                    figures.mismatch,
                    customers(mismatch=dashboard.Mismatch.ANY),
                    _tone(figures.mismatch, "danger"),
                    parts=(
                        Figure(_("MAC"), figures.mac_mismatch, customers(mismatch=dashboard.Mismatch.MAC)),
                        Figure(
                            _("licence expiry"),
                            figures.timeout_mismatch,
                            customers(mismatch=dashboard.Mismatch.TIMEOUT),
                        ),
                    ),
                ),
                Figure(
                    _("unregistered servers reporting"),
                    figures.unregistered_servers,
                    (
                        f"{reverse('admin:telemetry_unregisteredserver_changelist')}?registered=no"
                        if request.user.has_perm("telemetry.view_unregisteredserver")
                        else ""
                    ),
                    _tone(figures.unregistered_servers, "danger"),
                ),
            ],
        ),
        (
            _("Usage"),
            [
                Figure(_("users, as last reported"), figures.total_users),
                Figure(_("messages sent"), figures.total_messages),
            ],
        ),
    ]
    days = figures.reports_per_day
    chart = daily_chart(
        kind="bar",
        values=[(point.day, point.value) for point in days if point.value],
        first_day=days[0].day,
        last_day=days[-1].day,
        labels=Labels(
            title=_("Reports per day across the fleet"),
            x_axis=_("date"),
            y_axis=_("reports"),
            tooltip=_("%(day)s: %(value)s reports"),
            empty=_("No reports in the last %(days)d days") % {"days": len(days)},
            summary=_("latest day (%(day)s): %(latest)s · highest: %(highest)s"),
        ),
        chart_id="fleet-reports-per-day",
        width=880,
    )
    return {
        "show": True,
        "groups": groups,
        "chart": chart,
        "generated_at": timezone.localtime(),
    }
