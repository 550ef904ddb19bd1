# The document's ``server`` is our service engineer, not the customer's IM server: the field says so now.
# The wire name stays ``server`` in every endpoint.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_customer_ingest_key"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="customer", name="customer_server_idx"),
        migrations.RenameField(model_name="customer", old_name="server", new_name="service_engineer"),
        migrations.RenameField(model_name="historicalcustomer", old_name="server", new_name="service_engineer"),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["service_engineer"], name="customer_engineer_idx"),
        ),
    ]
