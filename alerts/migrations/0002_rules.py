from django.db import migrations

# Every rule of alerts.models.RuleKey, in its order, enabled, each with its default threshold (alerts.rules.RULES).
RULE_KEYS = [
    "silent",
    "never_reported",
    "licence_first",
    "licence_second",
    "licence_last",
    "licence_expired",
    "mac_mismatch",
    "timeout_mismatch",
    "unregistered",
    "user_count",
]


def create_rules(apps, schema_editor):
    Rule = apps.get_model("alerts", "Rule")
    for key in RULE_KEYS:
        Rule.objects.get_or_create(key=key)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
