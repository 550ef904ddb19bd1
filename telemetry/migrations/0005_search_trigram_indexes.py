"""Trigram indexes (PostgreSQL, ``zwadmin.lists.TrigramIndex``) for the rest of the console's searched columns:
the group's name, id and creator's name, and the server change's old and new value. A changelist search ORs
``icontains`` over every searched column, so one column without an index makes PostgreSQL read every row
(docs/performance.md, "Console lists"). Outside the models' state.
"""

from django.db import migrations

from zwadmin.lists import TrigramIndex


class Migration(migrations.Migration):

    dependencies = [
        ("telemetry", "0004_console_list_indexes"),
    ]

    operations = [
        TrigramIndex("imgroup", "imgroup_name_trgm_idx", "name"),
        TrigramIndex("imgroup", "imgroup_gid_trgm_idx", "gid"),
        TrigramIndex("imgroup", "imgroup_creatername_trgm_idx", "creatername"),
        TrigramIndex("serverchange", "serverchange_old_trgm_idx", "old_value"),
        TrigramIndex("serverchange", "serverchange_new_trgm_idx", "new_value"),
    ]
