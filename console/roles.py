"""The staff roles: which Django permissions each group of people holds.

Two groups, kept in step with this table after every ``migrate`` (and by
``manage.py setup_roles``): 运维 (operations) keep the registry and see
everything, manage the alerts' rules and channels and acknowledge or silence
alerts; 技术支持 (support) see customers, users, groups, reports and alerts and
change nothing. A staff member gets a role by joining its group (README
"Roles"); superusers hold every permission anyway.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

OPERATIONS = "运维"
SUPPORT = "技术支持"

_SEE_EVERYTHING = [
    "customers.view_customer",
    "telemetry.view_serverreport",
    "telemetry.view_serverstatus",
    "telemetry.view_imuser",
    "telemetry.view_imgroup",
    "telemetry.view_unregisteredserver",
    "telemetry.view_serverchange",
    "telemetry.view_usageday",
    "alerts.view_alert",
]

ROLES: dict[str, list[str]] = {
    OPERATIONS: [
        *_SEE_EVERYTHING,
        "customers.add_customer",
        "customers.change_customer",
        "customers.delete_customer",  # removal is soft: remove and restore
        "alerts.change_alert",  # acknowledge and silence
        "alerts.view_rule",
        "alerts.change_rule",  # enable, disable, thresholds
        "alerts.view_channel",
        "alerts.add_channel",
        "alerts.change_channel",  # and send its test message
        "alerts.delete_channel",
        "alerts.view_outboxmessage",
        "alerts.change_outboxmessage",  # send a failed message again
    ],
    SUPPORT: _SEE_EVERYTHING,
}


def _permissions(names: list[str]):
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query))
    if len(found) != len(names):
        missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        raise LookupError(f"unknown permissions in console.roles: {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and give each exactly the permissions of ``ROLES``; returns counts."""
    for app_config in apps.get_app_configs():  # permissions of apps migrated after this one, too
        create_permissions(app_config, verbosity=0)
    counts = {}
    for name, permission_names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(permission_names))
        counts[name] = len(permission_names)
    return counts
