"""What ingest's ``telemetry.signals.reports_committed`` starts: the state changes it can cause, queued at once.

A server report may start or end a MAC or licence-expiry mismatch of its customer; a code the registry does not
know starts the unregistered-server alert. The rest (silence, licences, user counts) changes with time and is
left to ``run_alerts``. Each call is a fixed number of queries for the request's subjects, never per record;
a batch with more unknown codes than ``MAX_IMMEDIATE_CODES`` is left to ``run_alerts`` too (junk, most likely).
"""

from .rules import INGEST_FAMILIES, SIGHTING_FAMILY
from .services import alerts_evaluate

MAX_IMMEDIATE_CODES = 100


def on_reports_committed(sender, customer_ids=(), unknown_codes=(), **kwargs):
    if customer_ids:
        alerts_evaluate(families=INGEST_FAMILIES, customer_ids=list(customer_ids), lock=False)
    if unknown_codes and len(unknown_codes) <= MAX_IMMEDIATE_CODES:
        alerts_evaluate(families=(SIGHTING_FAMILY,), codes=list(unknown_codes), lock=False)
