from django.core.management.base import BaseCommand

from console.roles import roles_sync


class Command(BaseCommand):
    help = "Create or update the staff role groups (运维, 技术支持) and their permissions; safe to run again."

    def handle(self, *args, **options):
        for name, count in roles_sync().items():
            self.stdout.write(f"{name}: {count} permissions")
