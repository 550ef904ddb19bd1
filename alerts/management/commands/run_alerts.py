from django.core.management.base import BaseCommand, CommandError

from alerts.services import alerts_evaluate, outbox_drain


class Command(BaseCommand):
    help = (
        "Evaluate the alert rules once and send the messages that are due (docs/alerts.md). Safe on every node "
        "at once: deploy/zwadmin-alerts.timer runs it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-evaluate", action="store_true", help="only send the messages that are due")
        parser.add_argument("--no-send", action="store_true", help="only evaluate the rules (queue messages)")

    def handle(self, *args, no_evaluate=False, no_send=False, **options):
        if not no_evaluate:
            evaluation = alerts_evaluate()
            skipped = f"; evaluated by another node: {', '.join(evaluation.skipped)}" if evaluation.skipped else ""
            self.stdout.write(
                f"Alerts: {evaluation.opened} opened, {evaluation.resolved} resolved, "
                f"{evaluation.messages} messages queued{skipped}."
            )
        if not no_send:
            drain = outbox_drain()
            self.stdout.write(
                f"Messages: {drain.sent} sent, {drain.retrying} to retry, {drain.failed} failed, "
                f"{drain.digests} digests made, {drain.gave_up} given up, {drain.unconfirmed} outcome unknown."
            )
        if not no_evaluate and evaluation.failed:  # after sending: the other rules' messages still go out
            raise CommandError(f"could not evaluate {', '.join(evaluation.failed)} (logged above)")
