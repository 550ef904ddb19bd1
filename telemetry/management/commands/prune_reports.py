"""Prune the history of server reports: `manage.py prune_reports` (run it daily, docs/operations.md "Report retention").

Deletes ``ServerReport`` rows older than the retention age in batches, each batch its own short
transaction, so a first run over years of history never holds long locks, bloats one huge
transaction or stalls replication. The latest status of each customer (``ServerStatus``) is a
separate table and is never touched: a server that stopped reporting long ago still shows its
last report.
"""

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from telemetry.models import ServerReport


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Delete server reports older than the retention age (TELEMETRY_REPORT_RETENTION_DAYS), in batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-days",
            type=positive_int,
            default=settings.TELEMETRY_REPORT_RETENTION_DAYS,
            help="Delete reports received more than this many days ago (default: %(default)s).",
        )
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=5000,
            help="Rows deleted per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="Seconds to sleep between batches, to spare a busy primary or its replicas (default: 0).",
        )

    def handle(self, *args, older_than_days: int, batch_size: int, pause: float, **options):
        if pause < 0:
            raise CommandError("--pause cannot be negative.")
        cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
        old = ServerReport.objects.filter(reported_at__lt=cutoff).order_by("reported_at")
        deleted = batches = 0
        while True:
            with transaction.atomic():
                # Oldest first along the reported_at index; the ids pin exactly what this batch deletes.
                ids = list(old.values_list("id", flat=True)[:batch_size])
                if not ids:
                    break
                # Nothing references a report and it has no delete signals: one DELETE … WHERE id IN (…).
                count, _ = ServerReport.objects.filter(id__in=ids).delete()
            deleted += count
            batches += 1
            if options["verbosity"] >= 2:
                self.stdout.write(f"batch {batches}: {count} deleted")
            if len(ids) < batch_size:
                break
            if pause:
                time.sleep(pause)
        self.stdout.write(
            f"Deleted {deleted} server reports received before {timezone.localtime(cutoff):%Y-%m-%d %H:%M} "
            f"({older_than_days} days) in {batches} batches."
        )
