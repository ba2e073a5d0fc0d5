"""Thin Celery tasks around reminders.delivery. Arguments are ids and flags only (CE-1, CE-5).

Settings make every task acks_late + reject_on_worker_lost with prefetch 1 (CE-2), and no
retry countdown is longer than the broker's visibility timeout (CE-3). With no REDIS_URL
they run in-process (CELERY_TASK_ALWAYS_EAGER), so `make run` needs no worker.
"""

import logging

from celery import shared_task
from django.utils import timezone

from reminders import delivery

logger = logging.getLogger("reminders.tasks")


@shared_task(ignore_result=True)
def reminders_scan_task() -> None:
    """Evaluate every reminder rule for today, then e-mail whoever has new reminders."""
    result = delivery.reminders_scan(today=timezone.localdate())
    if result.failed:
        logger.error("reminder scan: rules failed: %s", ",".join(result.failed))
    reminders_dispatch_task.delay()


@shared_task(ignore_result=True)
def reminders_dispatch_task(urgent_only: bool = False) -> None:
    """One delivery task per recipient with something due: each sends one batched e-mail."""
    for recipient_id in delivery.recipients_to_deliver(urgent_only=urgent_only):
        reminder_deliver_task.delay(recipient_id, urgent_only)


@shared_task(bind=True, ignore_result=True, max_retries=10)
def reminder_deliver_task(self, recipient_id: int, urgent_only: bool = False) -> None:  # type: ignore[no-untyped-def]
    try:
        delivery.reminders_deliver_to(recipient_id=recipient_id, urgent_only=urgent_only)
    except delivery.TransientDeliveryError as error:
        if self.request.is_eager:
            # In-process (no Redis): never retry inside the caller's request; the rows are
            # pending again and the next `run_reminders` / dispatch picks them up.
            return
        raise self.retry(countdown=error.retry_in) from None


@shared_task(ignore_result=True)
def reminders_sweep_task() -> None:
    """Re-queue rows stuck in `sending`, raise the overdue alarm, dispatch what is pending."""
    delivery.reminders_sweep()
    delivery.reminders_overdue_alarm()
    reminders_dispatch_task.delay()


def dispatch_urgent() -> None:
    """Registered with reminders.outbox.urgent_dispatcher_register: runs after a transaction
    that wrote an urgent reminder commits. Never raises into the clinician's request: if the
    broker is down, the sweep task's dispatch (every few minutes) sends it."""
    try:
        reminders_dispatch_task.delay(urgent_only=True)
    except Exception as error:
        logger.error("urgent reminder dispatch could not be queued: error=%s", type(error).__name__)
