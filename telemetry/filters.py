"""Filters of the per-customer lists ``/user/list`` and ``/group/list``.

Ranges follow django-filter's own convention (as NetBox does): ``<figure>__gte`` and
``<figure>__lte``, both inclusive, next to the exact ``<figure>``. Times without a
zone are China Standard Time, like everything the servers send (docs/protocol.md).
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_filters import rest_framework as filters

from .models import ImGroup, ImUser

RANGE_LOOKUPS = ["exact", "gte", "lte"]


def stale_before() -> datetime.datetime:
    """Rows last reported before this moment are stale: their server stopped sending them."""
    return timezone.now() - datetime.timedelta(days=settings.TELEMETRY_STALE_DAYS)


def stale_label() -> str:
    days = settings.TELEMETRY_STALE_DAYS
    label = ngettext("not reported in the last %(days)d day", "not reported in the last %(days)d days", days)
    return label % {"days": days}


class ReportedFilterSet(filters.FilterSet):
    """When a user or group was last reported, shared by both lists."""

    reported_since = filters.DateTimeFilter(
        field_name="last_reported_at", lookup_expr="gte", label=_("last reported at or after")
    )
    reported_before = filters.DateTimeFilter(
        field_name="last_reported_at", lookup_expr="lt", label=_("last reported before")
    )
    # Worded each time it is shown, not at import: in the reader's language, with the days configured then.
    # Lazy rather than set in __init__, because the OpenAPI schema reads the class's filters, not an instance's.
    stale = filters.BooleanFilter(method="filter_stale", label=lazy(stale_label, str)())

    def filter_stale(self, queryset, name, value):
        cutoff = stale_before()
        if value:
            return queryset.filter(last_reported_at__lt=cutoff)
        return queryset.filter(last_reported_at__gte=cutoff)


class ImUserFilterSet(ReportedFilterSet):
    nickname = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = ImUser
        fields = {"uuid": ["exact"], **{figure: RANGE_LOOKUPS for figure in ImUser.FIGURES}}


class ImGroupFilterSet(ReportedFilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    creatername = filters.CharFilter(lookup_expr="icontains")
    # Creation is a day on the wire (2016-08-09): the bounds are whole days, both inclusive.
    ctime__gte = filters.DateFilter(field_name="ctime", lookup_expr="date__gte", label=_("created on or after"))
    ctime__lte = filters.DateFilter(field_name="ctime", lookup_expr="date__lte", label=_("created on or before"))

    class Meta:
        model = ImGroup
        fields = {
            "gid": ["exact"],
            "createrid": ["exact"],
            **{figure: RANGE_LOOKUPS for figure in ImGroup.FIGURES},
        }
