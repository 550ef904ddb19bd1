from django.apps import AppConfig


class ZwadminConfig(AppConfig):
    """The project package as an app: its system checks and management commands."""

    name = "zwadmin"
    verbose_name = "zwadmin"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import security  # noqa: F401 - registers the deployment checks

        # post_migrate is sent once per app with models, and this package has none: sync the roles
        # after the last app, when every permission exists.
        last_app = [config for config in self.apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(_sync_roles, sender=last_app)


def _sync_roles(sender, using="default", **kwargs):
    from .roles import roles_sync

    if using == "default":
        roles_sync()
