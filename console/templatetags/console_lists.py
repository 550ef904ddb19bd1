"""``{{ cl|counted }}``: how many rows a list shows, with the measure word Chinese needs (7 个客户, 4,110 条服务器上报).

The theme writes "7 客户" (a number and the model's name); each model of the console gets its own phrase here,
and any other model a generic one. A large table's list is not counted to the end (``zwadmin.lists``): it says
"about 10,000,000 server reports" (the table's estimate) or "more than 10,000 IM users" (a count that stopped).
"""

from django import template
from django.contrib.admin.views.main import IGNORED_PARAMS, SEARCH_VAR
from django.utils.translation import ngettext_lazy, pgettext_lazy

from zwadmin.display import display_value
from zwadmin.lists import CountKind

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
    "alerts.alert": ngettext_lazy("%(shown)s alert", "%(shown)s alerts", "count"),
    "alerts.outboxmessage": ngettext_lazy("%(shown)s message", "%(shown)s messages", "count"),
    "auth.user": ngettext_lazy("%(shown)s staff member", "%(shown)s staff members", "count"),
    "auth.group": ngettext_lazy("%(shown)s role", "%(shown)s roles", "count"),
}


ITEMS = ngettext_lazy("%(shown)s item", "%(shown)s items", "count")
INEXACT = {
    CountKind.ESTIMATE: pgettext_lazy("estimated number of rows", "about %(counted)s"),
    CountKind.LIMITED: pgettext_lazy("rows counted up to a limit", "more than %(counted)s"),
}


@register.filter
def counted(changelist) -> str:
    phrase = PHRASES.get(changelist.opts.label_lower, ITEMS)
    paginator = getattr(changelist, "paginator", None)
    kind = getattr(paginator, "count_kind", CountKind.EXACT)
    number = paginator.shown_count if kind in INEXACT else changelist.result_count
    text = phrase % {"count": number, "shown": display_value(number)}
    return INEXACT[kind] % {"counted": text} if kind in INEXACT else text


@register.filter
def narrowed(changelist) -> bool:
    """Whether the list is filtered or searched (its "show all" link leads somewhere): an ordering, a page or
    the facets switched on leave every row listed."""
    return any(
        bool(value) if name == SEARCH_VAR else name not in IGNORED_PARAMS for name, value in changelist.params.items()
    )
