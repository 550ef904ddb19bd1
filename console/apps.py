from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """What composes the registry and the telemetry for people: the customer page, the dashboard, the roles,
    the OpenAPI schema and the demo data. Above both apps in the import stack (docs/ARCHITECTURE.md)."""

    name = "console"
    verbose_name = "console"

    def ready(self):
        from django.db.models.signals import post_migrate

        # post_migrate is sent once per app with models, and this app has none: sync the roles after the
        # last app, when every permission exists.
        last_app = [config for config in self.apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(_sync_roles, sender=last_app)

        from .theme import cache_result_headers

        cache_result_headers()


def _sync_roles(sender, using="default", **kwargs):
    from .roles import roles_sync

    if using == "default":
        roles_sync()
