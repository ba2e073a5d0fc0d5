"""Put `failed` reminders back to pending with a fresh set of attempts (after a long mail outage).

    manage.py retry_failed_reminders                 # every failed reminder
    manage.py retry_failed_reminders --id UUID ...   # only these (ids from the delivery page)
    manage.py retry_failed_reminders --deliver       # and e-mail them now, in this process

Without --deliver the next sweep (every minute under Celery beat) or `run_reminders` sends them.
"""

from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandParser

from reminders import delivery


class Command(BaseCommand):
    help = "Retry reminders whose e-mail failed: back to pending with a fresh set of attempts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", dest="ids", type=UUID, action="append", help="A failed reminder's public id.")
        parser.add_argument("--deliver", action="store_true", help="E-mail them now, in this process.")

    def handle(self, *args: Any, **options: Any) -> None:
        retried = delivery.reminders_retry_failed(public_ids=options["ids"])
        self.stdout.write(f"{retried} failed reminders put back to pending")
        if options["deliver"] and retried:
            sent = retry = 0
            for recipient_id in delivery.recipients_to_deliver():
                try:
                    sent += delivery.reminders_deliver_to(recipient_id=recipient_id).sent
                except delivery.TransientDeliveryError:
                    retry += 1
            self.stdout.write(f"delivered {sent} reminders; {retry} recipients to retry later")
