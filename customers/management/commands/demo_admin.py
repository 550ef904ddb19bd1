import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = "Create (or reset) the demo console login 'admin' with a fresh random password, and print it."

    def handle(self, *args, **options):
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                "\nConsole: http://127.0.0.1:8000/admin/\n"
                f"Login:   {DEMO_ADMIN}\nPassword: {password}\n"
                "Lookup:  curl '127.0.0.1:8000/api/customer/info?code=0513001'\n"
            )
        )
