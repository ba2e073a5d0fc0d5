"""Scan what is due and deliver it, in this process: what cron calls where no Celery beat runs.

    manage.py run_reminders                # scan today's rules, sweep, deliver, check overdue
    manage.py run_reminders --date 2026-12-01 --no-deliver

Safe to run while Celery workers (or another cron) run too: scans are idempotent and
each reminder is claimed by exactly one deliverer (SECURITY.md CE-4).
"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from reminders import delivery


class Command(BaseCommand):
    help = "Evaluate every reminder rule for today and e-mail the batched reminders (cron-friendly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat, help="Scan as of this day (YYYY-MM-DD).")
        parser.add_argument("--no-scan", action="store_true", help="Only deliver what is already pending.")
        parser.add_argument("--no-deliver", action="store_true", help="Only write the outbox rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = options["date"] or timezone.localdate()
        failed_rules: list[str] = []
        if not options["no_scan"]:
            result = delivery.reminders_scan(today=today)
            failed_rules = result.failed
            for rule, offered in result.offered.items():
                self.stdout.write(f"rule {rule}: {offered} reminders offered (existing ones skipped)")
        swept = delivery.reminders_sweep()
        if swept.requeued or swept.failed:
            self.stdout.write(f"sweeper: {swept.requeued} requeued, {swept.failed} failed")
        if not options["no_deliver"]:
            sent = failed = retry = 0
            for recipient_id in delivery.recipients_to_deliver():
                try:
                    outcome = delivery.reminders_deliver_to(recipient_id=recipient_id)
                except delivery.TransientDeliveryError:
                    retry += 1
                    continue
                sent += outcome.sent
                failed += outcome.failed
            self.stdout.write(f"delivered {sent} reminders; {failed} failed; {retry} recipients to retry later")
        overdue = delivery.reminders_overdue_alarm()
        if overdue:
            self.stderr.write(f"ALERT: {len(overdue)} reminders overdue (see the tandem.alerts log)")
        if failed_rules:
            raise CommandError(f"reminder rules failed: {', '.join(failed_rules)}")
