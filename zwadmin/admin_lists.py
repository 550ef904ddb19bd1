"""The console's lists answer any URL with a page, a redirect or a 400, never a 500 and never a hidden filter.

Django's changelist applies any query parameter naming a field of the model as a filter (``?name__startswith=``),
and a list's count then answers questions the page never offered: the ingest key's hash, digit by digit. Here
a list takes only the parameters its page offers:

- those its filters read (``list_filter``: each filter's ``expected_parameters()``, which the filter knows once
  built: ``registry``, ``timeout_from``, ``customer__id__exact``, ``service_engineer__exact``, …);
- its ``date_hierarchy``'s ``__year``, ``__month`` and ``__day``;
- ``list_links``: parameters the console's own links set that no filter of the page reads (the outbox's
  ``alert__id__exact``, from an alert's page);
- the search, ordering, page and Django's own (``q``, ``o``, ``p``, ``all``, ``_popup``, ``_to_field``, ``e``).

Anything else is refused as Django refuses a lookup ``ModelAdmin.lookup_allowed`` disallows: 400. A parameter
the page offers with a value nobody can mean (a date hierarchy year of 9999 or 0, month 13, a date the
database cannot hold, text with a NUL, which PostgreSQL refuses) is Django's ``IncorrectLookupParameters``: the
redirect to the unfiltered list (``?e=1``), or a 400 if that list's own URL is the wrong one. A search with a
NUL or longer than ``SEARCH_MAX_LENGTH`` finds nothing (the autocomplete) or is refused with a message (the
list's search box, as Django does for a NUL).

``ConsoleListMixin`` goes first in the bases of every console ModelAdmin (a test walks them all); it hardens
whatever changelist class the rest of the admin uses (DRF's token list has its own).
"""

import datetime
import functools

from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList, ChangeListSearchForm
from django.core.exceptions import BadRequest, EmptyResultSet, FullResultSet, ValidationError
from django.core.validators import MaxLengthValidator

SEARCH_MAX_LENGTH = 200  # characters: a search is a code, a name, a host; longer is a paste gone wrong
NUL = "\x00"
# The date hierarchy's bounds: its range reaches a year (or a day) past the one asked for, and the database
# compares it in UTC; both must stay within Python's years 1 to 9999.
HIERARCHY_YEARS = range(datetime.MINYEAR + 1, datetime.MAXYEAR)


def searchable(term: str) -> bool:
    """Whether ``term`` can be searched for: no NUL (PostgreSQL refuses it in text), not overlong."""
    return NUL not in term and len(term) <= SEARCH_MAX_LENGTH


class ConsoleSearchForm(ChangeListSearchForm):
    """The list's search box: Django refuses a NUL with a message; an overlong search is refused the same way."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.max_length = SEARCH_MAX_LENGTH
            field.validators.append(MaxLengthValidator(SEARCH_MAX_LENGTH))


class ConsoleChangeListMixin:
    """For a ``ChangeList``: the parameters its page offers, with values the database can take (module doc)."""

    search_form_class = ConsoleSearchForm

    def get_filters(self, request):
        asked = self.get_filters_params()
        for key, values in asked.items():
            if NUL in key or any(NUL in value for value in values):
                raise IncorrectLookupParameters(f"NUL in {key!r}")
        hierarchy = self._hierarchy_parameters(asked)
        filter_specs, has_filters, remaining, duplicates, active = super().get_filters(request)
        # What no filter took (each takes its own parameters out of the lookups) is filtered on as it is: only
        # the console's own links may, and the date hierarchy's bounds (built from __year, __month, __day).
        offered = set(self.model_admin.get_list_links(request)) | hierarchy
        for key in remaining:
            if key not in offered:
                raise DisallowedModelAdminLookup(f"Filtering by {key} not allowed")
        return filter_specs, has_filters, remaining, duplicates, active

    def _hierarchy_parameters(self, asked: dict) -> set[str]:
        """The bounds the date hierarchy will filter on, once its year, month and day are known to be days."""
        field = self.date_hierarchy
        if not field or f"{field}__year" not in asked:
            return set()
        parts = [asked.get(f"{field}__{part}", ["1"])[-1] for part in ("year", "month", "day")]
        try:
            year, month, day = (int(part) for part in parts)
            datetime.date(year, month, day)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error
        if year not in HIERARCHY_YEARS:
            raise IncorrectLookupParameters(f"year {year} out of range")
        return {f"{field}__gte", f"{field}__lt"}

    def get_queryset(self, request, exclude_parameters=None):
        try:
            queryset = super().get_queryset(request, exclude_parameters)
            # Compiled, not run: a value the database cannot take (a date beyond what it can hold in UTC)
            # fails here, for the list and its export alike, rather than halfway through the page.
            queryset.query.get_compiler(using=queryset.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass  # a filter nothing (or everything) matches: the database is not even asked
        except (ValueError, OverflowError, ValidationError) as error:  # a filter's own parsing of its value
            raise IncorrectLookupParameters(error) from error
        return queryset


@functools.cache
def console_changelist(base: type[ChangeList]) -> type[ChangeList]:
    """``base`` (Django's ``ChangeList`` or a library's subclass) taking only the parameters its page offers."""
    return type(f"Console{base.__name__}", (ConsoleChangeListMixin, base), {})


class ConsoleListMixin:
    """For every console ModelAdmin, first in its bases: lists take only what their page offers (module doc)."""

    # Parameters the console's own links put on this list that none of its filters reads.
    list_links: tuple[str, ...] = ()

    def get_list_links(self, request) -> tuple[str, ...]:
        return self.list_links

    def get_changelist(self, request, **kwargs):
        return console_changelist(super().get_changelist(request, **kwargs))

    def lookup_allowed(self, lookup, value, request=None):
        # The page's filters are known only once built (ConsoleChangeListMixin.get_filters decides on the
        # rest); a NUL never reaches the database.
        return NUL not in lookup and NUL not in (value or "") and super().lookup_allowed(lookup, value, request)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            if ERROR_FLAG in request.GET:
                # Django would show its "database error" page: the parameters are wrong, not the database.
                raise BadRequest(str(error)) from error
            raise

    def get_export_queryset(self, request):
        """The export (django-import-export) of a list whose parameters are wrong: 400, as the list's own."""
        try:
            return super().get_export_queryset(request)
        except IncorrectLookupParameters as error:
            raise BadRequest(str(error)) from error

    def get_search_results(self, request, queryset, search_term):
        # The list's search box refuses such a search (ConsoleSearchForm); the autocomplete and the customer
        # page's tabs search with the term as sent.
        if not searchable(search_term):
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_object(self, request, object_id, from_field=None):
        if NUL in str(object_id):  # a text primary key (the API token's) would reach PostgreSQL with it
            return None
        return super().get_object(request, object_id, from_field)
