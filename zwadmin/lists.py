"""List pages over tables of millions of rows: what the console's changelists count, and how they drill down by date.

- ``LargeTablePaginator``: the number of rows without counting them all. On PostgreSQL an unfiltered list
  takes the planner's estimate of its table's size (``pg_class.reltuples``, kept by autovacuum), shown as
  "about N"; a filtered one counts at most ``COUNT_LIMIT`` + 1 rows (a searched one ``SEARCH_COUNT_LIMIT`` + 1),
  shown as "more than N" when there are more, and exactly otherwise. The pages reachable are those the count
  covers: past them, a filter, a search or the date drill-down narrows the list. SQLite (the embedded default,
  small) counts exactly.
- ``LargeTableAdminMixin``: that paginator, and a date drill-down whose years, months or days come from the
  range of the filtered rows (``MIN``/``MAX``, served by the date's index) and one ``EXISTS`` probe per
  period, in one query, instead of Django's ``SELECT DISTINCT`` over every row.

docs/performance.md ("Console lists") has the figures and which index serves which page.
"""

import datetime
import logging
import math
from functools import cached_property

from django.conf import settings
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.paginator import Paginator
from django.db import connections, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Exists, Max, Min
from django.utils import timezone

logger = logging.getLogger(__name__)

# A filtered list counts this many rows at most, then says "more than" (the pages of 50 it covers: 200).
COUNT_LIMIT = 10_000
# A searched one counts fewer: a term no index narrows (one Chinese character, a word most rows hold) is matched
# by reading rows until the limit is reached, so the limit is the page's cost; twenty pages of a search is more
# than anyone reads before searching better.
SEARCH_COUNT_LIMIT = 1_000


class CountKind:
    EXACT = "exact"
    ESTIMATE = "estimate"  # the planner's figure for the whole table: "about N"
    LIMITED = "limited"  # more rows than COUNT_LIMIT match: "more than N"


def _is_unfiltered(queryset) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.is_sliced and not query.combinator


def table_estimate(queryset) -> int | None:
    """The planner's estimate of the rows of ``queryset``'s table (PostgreSQL), ``None`` if it has none yet."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None and row[0] >= 0 else None


class LargeTablePaginator(Paginator):
    """A changelist's paginator that never counts a whole large table (see the module's docstring).

    ``count_kind`` says what ``count`` is: exact, the table's estimate, or ``COUNT_LIMIT`` + 1 ("more than").
    """

    count_limit = COUNT_LIMIT
    search_count_limit = SEARCH_COUNT_LIMIT  # count_limit of a searched list (LargeTableAdminMixin.get_paginator)
    # An unfiltered table estimated smaller than this is counted (as a filtered list): counting it is cheap.
    estimate_above = COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        self.count_kind = CountKind.EXACT
        if connections[queryset.db].vendor != "postgresql":
            return super().count
        if _is_unfiltered(queryset):
            estimate = table_estimate(queryset)
            if estimate is not None and estimate > self.estimate_above:
                self.count_kind = CountKind.ESTIMATE
                return estimate
        counted = queryset.order_by()[: self.count_limit + 1].count()  # any rows will do: no sort
        if counted > self.count_limit:
            self.count_kind = CountKind.LIMITED
        return counted

    @cached_property
    def num_pages(self) -> int:
        """The pages the count covers: for an estimate, only those of the first ``count_limit`` rows."""
        count = self.count
        if self.count_kind == CountKind.ESTIMATE:
            count = min(count, self.count_limit + 1)
        if count == 0 and not self.allow_empty_first_page:
            return 0
        return max(math.ceil(max(count - self.orphans, 0) / self.per_page), 1)

    @property
    def is_exact(self) -> bool:
        self.count  # noqa: B018 - sets count_kind
        return self.count_kind == CountKind.EXACT

    @property
    def shown_count(self) -> int:
        """The number to show beside "about" or "more than": the estimate, or the limit counted to."""
        return self.count_limit if self.count_kind == CountKind.LIMITED else self.count


# --- the date drill-down -------------------------------------------------------------------------------------

MAX_PERIODS = 62  # more candidate periods than this (stray dates decades apart): Django's own query instead


def _period_starts(first: datetime.datetime, last: datetime.datetime, kind: str) -> list[datetime.datetime]:
    """Every local year, month or day from ``first``'s to ``last``'s, as aware local midnights."""
    zone = timezone.get_current_timezone()
    first, last = timezone.localtime(first, zone), timezone.localtime(last, zone)
    starts, day = [], first.date()
    day = day.replace(month=1, day=1) if kind == "year" else day.replace(day=1) if kind == "month" else day
    while day <= last.date() and len(starts) <= MAX_PERIODS:
        starts.append(day)
        if kind == "year":
            day = day.replace(year=day.year + 1)
        elif kind == "month":
            day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        else:
            day += datetime.timedelta(days=1)
    return [timezone.make_aware(datetime.datetime.combine(start, datetime.time.min), zone) for start in starts]


def _next_start(start: datetime.datetime, kind: str) -> datetime.datetime:
    day = start.date()
    if kind == "year":
        day = day.replace(year=day.year + 1)
    elif kind == "month":
        day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    else:
        day += datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), start.tzinfo)


class PeriodsQuerySetMixin:
    """``datetimes(field, kind)`` from the rows' range and one ``EXISTS`` per period (an index probe each),
    in two queries whatever the number of rows: what Django's date drill-down asks of a changelist's queryset.
    """

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day") or tzinfo is not None or not settings.USE_TZ:
            return super().datetimes(field_name, kind, order, tzinfo)
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        starts = _period_starts(bounds["first"], bounds["last"], kind)
        if len(starts) > MAX_PERIODS:
            return super().datetimes(field_name, kind, order, tzinfo)
        probes = {
            f"p{index}": Exists(
                self.order_by().filter(**{f"{field_name}__gte": start, f"{field_name}__lt": _next_start(start, kind)})
            )
            for index, start in enumerate(starts)
        }
        # One row of probes: selected from the table itself, its first row (the probes do not depend on it).
        row = self.model._base_manager.using(self.db).annotate(**probes).values(*probes).order_by()[:1]
        found = next(iter(row), None)
        if found is None:  # an empty table has rows in range only through a race: none then
            return []
        periods = [start for index, start in enumerate(starts) if found[f"p{index}"]]
        return periods if order == "ASC" else periods[::-1]


_PERIOD_CLASSES: dict[type, type] = {}


def with_cheap_periods(queryset):
    """``queryset`` as a ``PeriodsQuerySetMixin`` query set (the class is made once per query set class)."""
    base = type(queryset)
    if issubclass(base, PeriodsQuerySetMixin):
        return queryset
    cls = _PERIOD_CLASSES.get(base)
    if cls is None:
        cls = _PERIOD_CLASSES[base] = type(f"Periods{base.__name__}", (PeriodsQuerySetMixin, base), {})
    clone = queryset._chain()
    clone.__class__ = cls
    return clone


class LargeTableAdminMixin:
    """For a ModelAdmin over a large table: ``LargeTablePaginator``, one count per page, the cheap drill-down."""

    paginator = LargeTablePaginator
    show_full_result_count = False  # the unfiltered total is a second count: the page says "about N" instead

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return with_cheap_periods(queryset) if self.date_hierarchy else queryset

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        if request.GET.get(SEARCH_VAR) and isinstance(paginator, LargeTablePaginator):
            paginator.count_limit = paginator.search_count_limit
        return paginator


# --- searching: trigram indexes -------------------------------------------------------------------------------


class TrigramIndex(Operation):
    """A migration operation: a trigram GIN index (``pg_trgm``) over what a changelist search compares,
    ``UPPER(column)`` (Django's ``icontains``), so ``ILIKE '%term%'`` reads the index instead of every row.

    PostgreSQL only, and not in the models' state: SQLite migrates the same models without it, and
    ``makemigrations`` sees no change. It creates the ``pg_trgm`` extension when missing (trusted: the
    database's owner may); where that is refused, the index is skipped with a warning and the searches still
    work, only slower (as telemetry's migration 0003 does for nicknames). ``expression`` is the SQL of what is
    compared (``{column}`` stands for the quoted column).
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, name: str, column: str, expression: str = "UPPER({column}::text)"):
        self.model_name, self.name, self.column, self.expression = model_name, name, column, expression

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        quote = schema_editor.quote_name
        expression = self.expression.format(column=quote(self.column))
        try:
            with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint: a refusal is not fatal
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(self.name)} ON {quote(model._meta.db_table)} "
                    f"USING gin (({expression}) gin_trgm_ops)"
                )
        except Exception as error:  # noqa: BLE001 - a missing privilege or extension must not stop a deploy
            logger.warning("no trigram index %s (%s): searches of %s read every row", self.name, error, self.column)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(self.name)}")

    def describe(self):
        return f"Create trigram index {self.name} on {self.model_name}.{self.column} (PostgreSQL)"

    @property
    def migration_name_fragment(self):
        return self.name.lower()
