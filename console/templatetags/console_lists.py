"""``{{ cl|counted }}``: how many rows a list shows, with the measure word Chinese needs (7 个客户, 4,110 条服务器上报).

The theme writes "7 客户" (a number and the model's name); each model of the console gets its own phrase here,
and any other model a generic one.
"""

from django import template
from django.utils.translation import ngettext_lazy

from zwadmin.display import display_value

register = template.Library()

PHRASES = {
    "customers.customer": ngettext_lazy("%(shown)s customer", "%(shown)s customers", "count"),
    "telemetry.serverreport": ngettext_lazy("%(shown)s server report", "%(shown)s server reports", "count"),
    "telemetry.imuser": ngettext_lazy("%(shown)s IM user", "%(shown)s IM users", "count"),
    "telemetry.imgroup": ngettext_lazy("%(shown)s IM group", "%(shown)s IM groups", "count"),
    "telemetry.serverchange": ngettext_lazy("%(shown)s server change", "%(shown)s server changes", "count"),
    "telemetry.unregisteredserver": ngettext_lazy(
        "%(shown)s unregistered server", "%(shown)s unregistered servers", "count"
    ),
    "auth.user": ngettext_lazy("%(shown)s staff member", "%(shown)s staff members", "count"),
    "auth.group": ngettext_lazy("%(shown)s role", "%(shown)s roles", "count"),
}


ITEMS = ngettext_lazy("%(shown)s item", "%(shown)s items", "count")


@register.filter
def counted(changelist) -> str:
    phrase = PHRASES.get(changelist.opts.label_lower, ITEMS)
    return phrase % {"count": changelist.result_count, "shown": display_value(changelist.result_count)}
