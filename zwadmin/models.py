"""The infrastructure's own table: counters shared by every process without Redis (zwadmin/counters.py)."""

from django.db import models


class Counter(models.Model):
    """One fixed-window counter (or one remembered member of a counted set) of the throttles.

    Only used without ``REDIS_URL``; ``name`` carries the window (``…:<window number>``), so a new window is a
    new row and rows past ``expires_at`` (seconds since the epoch) are only deleted, never read.
    """

    name = models.CharField(max_length=255, primary_key=True)
    count = models.BigIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True)

    class Meta:
        db_table = "zwadmin_counter"

    def __str__(self):
        return f"{self.name} = {self.count}"
