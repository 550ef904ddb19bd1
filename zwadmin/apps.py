from django.apps import AppConfig


class ZwadminConfig(AppConfig):
    """The project package as an app: its deployment checks and the third-party strings of its catalog."""

    name = "zwadmin"
    verbose_name = "zwadmin"

    def ready(self):
        from . import client_address  # noqa: F401 - registers the deployment checks
