"""CSV and Excel export of the console's lists (django-import-export), for the customers and telemetry admins.

Export only: nothing is ever imported through the console. An operator exports what the changelist shows
(its filters and search) or the rows they selected, as CSV that Excel opens with Chinese intact or as XLSX,
if they may view the model (``IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"``). Columns are headed with the
fields' names in the console's language.
"""

import io
import unicodedata

import tablib
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from import_export.admin import ExportActionMixin
from import_export.formats import base_formats
from import_export.resources import ModelResource
from import_export.widgets import NumberWidget
from unfold.contrib.import_export.forms import SelectableFieldsExportForm

# A cell starting with one of these is a formula to a spreadsheet; the text comes from customers' servers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defused(cell, starts: tuple[str, ...]):
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'``; any other cell as it is.

    Names and nicknames come from customers' own servers: ``=HYPERLINK(…)`` must stay text.
    """
    return "'" + cell if isinstance(cell, str) and cell.startswith(starts) else cell


def _display_width(value) -> int:
    """Columns a value takes in a spreadsheet: Chinese characters are two wide."""
    text = str(value) if value is not None else ""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


class ExcelCSV(base_formats.CSV):
    """CSV in UTF-8 with a byte-order mark, so that Excel shows Chinese names rather than mojibake.

    Formula-like cells are defused as in the lists' ``?format=csv`` (``telemetry.renderers``), with the same
    ``FORMULA_STARTS``.
    """

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def export_data(self, dataset, **kwargs):
        rows = [[_defused(cell, FORMULA_STARTS) for cell in row] for row in dataset]
        return "\ufeff" + super().export_data(tablib.Dataset(*rows, headers=dataset.headers), **kwargs)


class ExcelXLSX(base_formats.XLSX):
    """XLSX with typed cells (numbers, dates), a frozen header row and columns as wide as their contents.

    Written row by row (openpyxl's write-only mode, twice as fast as tablib's workbook and in constant memory
    per row). Only a leading ``=`` makes a formula in a cell, so only that is defused; characters XLSX cannot
    hold (control characters a server may send in a nickname) become U+FFFD rather than failing the export.
    """

    WIDTH_SAMPLE_ROWS = 200
    MAX_WIDTH = 60

    def export_data(self, dataset, **kwargs):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.utils import get_column_letter

        def cell(value):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
            return _defused(value, ("=",))

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.freeze_panes = "A2"
        sample = [dataset.headers, *dataset[: self.WIDTH_SAMPLE_ROWS]]
        for index, column in enumerate(zip(*sample, strict=True), start=1):
            width = max(_display_width(value) for value in column) + 2
            sheet.column_dimensions[get_column_letter(index)].width = min(width, self.MAX_WIDTH)
        sheet.append([str(header) for header in dataset.headers])
        for row in dataset:
            sheet.append([cell(value) for value in row])
        stream = io.BytesIO()
        workbook.save(stream)
        return stream.getvalue()


EXPORT_FORMATS = [ExcelCSV, ExcelXLSX]


class ConsoleResource(ModelResource):
    """A model's rows for export, each column headed with its field's verbose name (客户编码, customer code …)."""

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        field.column_name = capfirst(django_field.verbose_name)  # lazy: translated when the file is written
        if isinstance(field.widget, NumberWidget):
            # Numbers as numbers (10003, 622111), not as the console shows them (10,003): a spreadsheet must
            # read them, and a port is no quantity.
            field.widget.coerce_to_string = False
        return field


class ExportForm(SelectableFieldsExportForm):
    """The export page's column checkboxes (the theme's widgets), labelled as the file's columns will be."""

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        return field.column_name if field else field_name


class ExportAdminMixin(ExportActionMixin):
    """For a ModelAdmin: an "Export" button (the filtered list) and an "Export selected" action, CSV or XLSX.

    Bounded by ``export_max_rows``: the file is built in memory by the web worker, and telemetry tables
    hold every user of every customer, so a larger export asks the operator to filter first.
    """

    export_formats = EXPORT_FORMATS
    export_form_class = ExportForm
    show_change_form_export = False  # a change form's export posts to the change view: refused to view-only staff
    export_max_rows = 50_000  # 50,000 rows of XLSX: 15 to 35 s of one core, inside gunicorn's 60 s timeout

    def _too_many(self, queryset) -> str | None:
        if queryset[: self.export_max_rows + 1].count() <= self.export_max_rows:
            return None
        return _("At most %(max)d rows can be exported at once: filter the list first.") % {"max": self.export_max_rows}

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # The library's, but typed cells for any binary format: it recognises only its own classes, not ExcelXLSX.
        if not self.has_export_permission(request):
            raise PermissionDenied
        problem = self._too_many(queryset)
        if problem:
            raise ValueError(problem)  # the export page shows it as an error message
        data = self.get_data_for_export(request, queryset, force_native_type=file_format.is_binary(), **kwargs)
        return file_format.export_data(data)

    def export_admin_action(self, request, queryset):
        problem = self._too_many(queryset)
        if problem:
            self.message_user(request, problem, messages.ERROR)
            return None
        return super().export_admin_action(request, queryset)

    def get_valid_export_item_pks(self, request):
        # The selected rows posted back from the export page must be rows this list can show. (The library's
        # default lists the primary key of every row of the table, which telemetry tables cannot afford.)
        posted = []
        for value in request.POST.getlist("export_items"):
            try:
                posted.append(self.opts.pk.to_python(value))
            except ValidationError:
                pass  # not a key at all: the form refuses it as an invalid choice
        return self.get_export_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)

    def get_export_filename(self, request, queryset, file_format):
        return f"{self.opts.model_name}-{timezone.localtime():%Y%m%d-%H%M}.{file_format.get_extension()}"
