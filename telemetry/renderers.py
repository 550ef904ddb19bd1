"""CSV for the operators' spreadsheets (``?format=csv`` on the per-customer lists)."""

import csv
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence

from django.utils import timezone
from rest_framework import renderers

from zwadmin.exports import FORMULA_STARTS


class CSVRenderer(renderers.BaseRenderer):
    """UTF-8 with a byte-order mark, so that Excel shows Chinese names rather than mojibake.

    Selected by ``?format=csv`` or ``Accept: text/csv``. The list views stream every
    filtered row through ``stream()`` rather than rendering one page.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    rows_per_chunk = 1000

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data.get("results", []) if isinstance(data, dict) else data or []
        header = list(rows[0]) if rows else []
        return b"".join(self.stream(header, ([row[name] for name in header] for row in rows)))

    def stream(self, header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
        """The header row, then ``rows``, encoded in chunks of ``rows_per_chunk`` lines."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # RFC 4180 line ends (\r\n), as Excel writes them
        buffer.write("\ufeff")
        writer.writerow(header)
        for number, row in enumerate(rows, start=1):
            writer.writerow([self.cell(value) for value in row])
            if number % self.rows_per_chunk == 0:
                yield buffer.getvalue().encode(self.charset)
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode(self.charset)

    @staticmethod
    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime.datetime):
            # Local time (Asia/Shanghai) in the form the servers send it, which Excel reads as a date.
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, str):
            return "'" + value if value.startswith(FORMULA_STARTS) else value
        return str(value)
