from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ZwadminConfig(AppConfig):
    """The project package as an app: its deployment checks, the cache table, the third-party strings."""

    name = "zwadmin"
    verbose_name = "zwadmin"

    def ready(self):
        from . import client_address  # noqa: F401 - registers the deployment checks
        from .storage import create_cache_table

        # After every migrate, wherever it runs: the embedded default's cache table (zwadmin/storage.py).
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="zwadmin.create_cache_table")
