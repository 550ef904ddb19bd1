import django_filters

from .licence import LicenceState
from .models import Customer


class CustomerFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="startswith")
    name = django_filters.CharFilter(lookup_expr="icontains")
    server = django_filters.CharFilter(field_name="service_engineer", lookup_expr="exact")  # the wire name
    licence = django_filters.ChoiceFilter(choices=LicenceState.choices, method="filter_licence")
    timeout_before = django_filters.DateFilter(field_name="timeout", lookup_expr="lt")
    timeout_after = django_filters.DateFilter(field_name="timeout", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ("code", "name", "server", "licence")

    def filter_licence(self, queryset, name, value):
        return queryset.with_licence_state(value)
