"""The console's audit trail pages (django-simple-history, in the theme): who changed a record, when, old → new.

A model with ``history = HistoricalRecords()`` gets a "History" button on its change page; ``AuditTrailAdmin``
lists its records there with the changed fields, values shown as the console shows them (local time, a dash
for nothing), each record named for what happened: added, changed, removed, restored. A removal and a restore
are saves that change only ``REMOVAL_FIELD`` (soft removal), so the library would call both "changed".
The history is a record, not an editor: nothing is reverted from it.
"""

import datetime
import decimal

from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges, ModelChange, ModelDelta
from simple_history.template_utils import HistoricalRecordContextHelper
from unfold.admin import ModelAdmin

EMPTY = "—"
REMOVAL_FIELD = "removed_at"  # a soft removal sets it, a restore clears it

# What a record is called in the history's event column ("+", "~", "-" are the library's history types).
ADDED = pgettext_lazy("history event", "added")
CHANGED = pgettext_lazy("history event", "changed")
DELETED = pgettext_lazy("history event", "deleted")
REMOVED = pgettext_lazy("history event", "removed")
RESTORED = pgettext_lazy("history event", "restored")


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


def audit_event(record: HistoricalChanges, previous_removal: datetime.datetime | None) -> str:
    """What ``record`` did: added, changed, deleted, or, when its ``REMOVAL_FIELD`` changed from
    ``previous_removal`` (the record before it), removed or restored."""
    if record.history_type == "+":
        return ADDED
    if record.history_type == "-":
        return DELETED
    removal = getattr(record, REMOVAL_FIELD, None)
    if removal is not None and previous_removal is None:
        return REMOVED
    if removal is None and previous_removal is not None:
        return RESTORED
    return CHANGED


class AuditTrailContextHelper(HistoricalRecordContextHelper):
    """Formats each old and new value of a change as the admin displays values."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        if value is None or value == "":
            return EMPTY
        if isinstance(value, datetime.datetime):
            value = timezone.localtime(value)
        if isinstance(value, datetime.date | float | decimal.Decimal):
            return formats.localize(value)
        return str(value) if isinstance(value, int) else value  # ports and the like: 10003, never 10,003


class AuditTrailAdmin(SimpleHistoryAdmin, ModelAdmin):
    """For a ModelAdmin of a model with history: its "History" page lists who changed what, old → new, and why
    (``history_change_reason``, when the operator gave one)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return AuditTrailContextHelper(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        # As the library's, newest first, each record against the one before it, but with ``audit_delta``.
        records = list(historical_records)
        for newer, older in zip(records, [*records[1:], None][: len(records)], strict=True):
            newer.history_change_reason = newer.history_change_reason or ""  # not "None" in its column
            delta = audit_delta(newer, older) if older is not None else None
            if delta is not None:
                helper = self.get_historical_record_context_helper(request, newer)
                newer.history_delta_changes = helper.context_for_delta_changes(delta)
            # The theme's history list names each record by this method; an instance attribute shadows it.
            event = audit_event(newer, getattr(older, REMOVAL_FIELD, None))
            newer.get_history_type_display = lambda event=event: event

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # The library saves a posted past version whatever SIMPLE_HISTORY_REVERT_DISABLED says; view only here.
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
