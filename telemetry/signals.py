"""What ingest tells the apps above it, which it cannot import (docs/ARCHITECTURE.md, the layers).

``reports_committed`` is sent once per commit request whose stored rows may change a customer's state, after
its transaction has committed (``transaction.on_commit``, robust: a receiver's failure is logged and never
fails the request). The alerts app listens to queue the state changes it sees at once.

Arguments: ``customer_ids`` — the registered customers whose server report was stored (a server commit: one);
``unknown_codes`` — codes the registry does not know that reported (recorded as unregistered servers). Either
may be empty, never both. One call per request, whatever the batch size: what a receiver does with the lists is
its own cost.
"""

from django.dispatch import Signal

reports_committed = Signal()
