"""Indexes for the per-customer lists and the ingest (docs/performance.md).

- ``ImUser.customer`` and ``ImGroup.customer`` lose their own index: the (customer, uuid) and (customer, gid)
  unique constraints' indexes start with the same column and serve every per-customer read, and each index
  fewer is one fewer to update for every row of a batch.
- ``(customer, fmsgs)``: the users who send the most messages, sorted or filtered, without a scan.
- On PostgreSQL, a trigram index on ``UPPER(nickname)`` lets ``/user/list?nickname=`` and ``?search=``
  (Django's ``icontains``: ``UPPER(nickname::text) LIKE UPPER('%…%')``) find a name among a customer's
  50,000 users without reading them all. It needs the ``pg_trgm`` extension (trusted: the database's owner
  may create it); where it cannot be created, the index is skipped with a warning and the lists still work,
  only slower. It lives outside the models' state (SQLite has no such index), hence plain SQL here.
"""

import logging

import django.db.models.deletion
from django.db import migrations, models, transaction

logger = logging.getLogger(__name__)

TRIGRAM_INDEX = "imuser_nickname_trgm_idx"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint: a refusal is not fatal
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON telemetry_imuser "
                "USING gin (UPPER(nickname::text) gin_trgm_ops)"
            )
    except Exception as error:  # noqa: BLE001 - a missing privilege or extension must not stop a deploy
        logger.warning("telemetry: no trigram index on nicknames (%s); nickname searches read every row", error)


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_customer_history'),
        ('telemetry', '0002_server_changes_usage_days'),
    ]

    operations = [
        migrations.AlterField(
            model_name='imgroup',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='im_groups', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AlterField(
            model_name='imuser',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='im_users', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AddIndex(
            model_name='imuser',
            index=models.Index(fields=['customer', 'fmsgs'], name='imuser_customer_fmsgs_idx'),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
