"""Indexes for the console's lists at fleet scale (docs/performance.md, "Console lists").

- ``serverchange_time_idx``: the server-change list, newest first, and its date drill-down, without a sort
  of every change.
- On PostgreSQL, trigram indexes (``zwadmin.lists.TrigramIndex``) of what the lists search with ``icontains``:
  the user's uuid (its nickname has one since 0003) and the report's name, MAC and IP. Outside the models' state.
"""

from django.db import migrations, models

from zwadmin.lists import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ("telemetry", "0003_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="serverchange",
            index=models.Index(fields=["-changed_at", "-id"], name="serverchange_time_idx"),
        ),
        TrigramIndex("imuser", "imuser_uuid_trgm_idx", "uuid"),
        TrigramIndex("serverreport", "serverreport_name_trgm_idx", "name"),
        TrigramIndex("serverreport", "serverreport_mac_trgm_idx", "mac"),
        TrigramIndex("serverreport", "serverreport_ip_trgm_idx", "ip", expression="UPPER(HOST({column}))"),
    ]
