from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Tells operators when a customer gets into trouble: the rules, the alerts, the channels and the outbox.
    Between telemetry and the console in the import stack (docs/ARCHITECTURE.md)."""

    name = "alerts"
    verbose_name = _("Alerts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from telemetry.signals import reports_committed

        from . import checks  # noqa: F401 - registers the deploy check
        from .receivers import on_reports_committed

        reports_committed.connect(on_reports_committed, dispatch_uid="alerts.on_reports_committed")
