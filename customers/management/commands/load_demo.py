import datetime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from customers.models import Customer
from customers.selectors import connection_info_refresh

DEMO_FIXTURE = settings.BASE_DIR / "fixtures" / "demo_customers.json"
EXPIRING_DEMO_CODE = "0571005"


class Command(BaseCommand):
    help = "Load the demo customers (fixtures/demo_customers.json); safe to run again."

    def handle(self, *args, **options):
        call_command("loaddata", DEMO_FIXTURE, verbosity=0)
        # A fixture's dates are fixed, "expiring within 30 days" is not: keep one demo licence about to lapse.
        Customer.objects.filter(code=EXPIRING_DEMO_CODE).update(
            timeout=timezone.localdate() + datetime.timedelta(days=14)
        )
        connection_info_refresh(*Customer.objects.values_list("code", flat=True))
        self.stdout.write(self.style.SUCCESS(f"Loaded {Customer.objects.count()} demo customers."))
