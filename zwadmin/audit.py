"""The console's audit trail pages (django-simple-history): who changed a record, when, old → new.

A model with ``history = HistoricalRecords()`` gets a "History" button on its change page; ``AuditTrailAdmin``
lists its records there with the changed fields, values shown as the console shows them (local time, a dash
for nothing). The history is a record, not an editor: nothing is reverted from it.
"""

import datetime
import decimal

from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges, ModelChange, ModelDelta
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


def audit_delta(new: HistoricalChanges, old: HistoricalChanges) -> ModelDelta:
    """What changed from record ``old`` to record ``new`` of one object, fields the forms never edit included.

    The library's ``diff_against`` compares only editable fields, and a soft removal changes nothing else
    (``removed_at``, set by the services only).
    """
    delta = new.diff_against(old)
    changes = [
        ModelChange(field.name, getattr(old, field.attname), getattr(new, field.attname))
        for field in new.tracked_fields
        if not field.editable and getattr(old, field.attname) != getattr(new, field.attname)
    ]
    changes = sorted([*delta.changes, *changes], key=lambda change: change.field)
    return ModelDelta(changes, [change.field for change in changes], old, new)


class AuditTrailContextHelper(HistoricalRecordContextHelper):
    """Formats each old and new value of a change as the admin displays values."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        if value is None or value == "":
            return EMPTY
        if isinstance(value, datetime.datetime):
            value = timezone.localtime(value)
        if isinstance(value, datetime.date | int | float | decimal.Decimal):
            return formats.localize(value)
        return value


class AuditTrailAdmin(SimpleHistoryAdmin):
    """For a ModelAdmin of a model with history: its "History" page lists who changed what, old → new."""

    def get_historical_record_context_helper(self, request, historical_record):
        return AuditTrailContextHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        # As the library's, newest first, each record against the one before it, but with ``audit_delta``.
        records = list(historical_records)
        for record in records:
            record.history_change_reason = record.history_change_reason or ""  # not "None" in its column
        for newer, older in zip(records, records[1:], strict=False):
            helper = self.get_historical_record_context_helper(request, newer)
            newer.history_delta_changes = helper.context_for_delta_changes(audit_delta(newer, older))

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # The library saves a posted past version whatever SIMPLE_HISTORY_REVERT_DISABLED says; view only here.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
