"""Thin Celery tasks around reminders.delivery. Arguments are ids and flags only (CE-1, CE-5).

Settings make every task acks_late + reject_on_worker_lost with prefetch 1 (CE-2). No task
is ever published with a countdown or ETA: a failed delivery's next try is the row's
`next_attempt_at`, which the every-minute sweep honours (CE-3), so a broker restart finds
no delayed message to lose or to choke on. The sweep has its own queue
(CELERY_TASK_ROUTES) so it never waits behind hundreds of delivery tasks. With no
REDIS_URL they run in-process (CELERY_TASK_ALWAYS_EAGER), so `make run` needs no worker.
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


# The hard limit is below the claim's lease (REMINDER_SENDING_TIMEOUT_SECONDS, 150 s): a live
# delivery is never swept and sent twice; a killed one is swept once the lease runs out.
@shared_task(ignore_result=True, soft_time_limit=100, time_limit=120)
def reminder_deliver_task(recipient_id: int, urgent_only: bool = False) -> None:
    try:
        delivery.reminders_deliver_to(recipient_id=recipient_id, urgent_only=urgent_only)
    except delivery.TransientDeliveryError as error:
        # The rows are pending again with `next_attempt_at` set: the sweep sends them then.
        # No countdown message waits in the broker (a Redis restart cannot lose or jam it).
        logger.info("reminder delivery will be retried by the sweep in %ss: recipient=%s", error.retry_in, recipient_id)


@shared_task(ignore_result=True)
def reminders_sweep_task() -> None:
    """Every minute, in its own queue: take back rows whose claim lease ran out, raise the
    overdue alarm, and dispatch every row due for another attempt (backoff passed)."""
    delivery.reminders_sweep()
    delivery.reminders_overdue_alarm()
    for recipient_id in delivery.recipients_to_retry():
        reminder_deliver_task.delay(recipient_id, False)


def dispatch_urgent() -> None:
    """Registered with reminders.outbox.urgent_dispatcher_register: runs after a transaction
    that wrote an urgent reminder commits. Never raises into the clinician's request: if the
    broker is down, the sweep task's dispatch (every few minutes) sends it."""
    try:
        reminders_dispatch_task.delay(urgent_only=True)
    except Exception as error:
        logger.error("urgent reminder dispatch could not be queued: error=%s", type(error).__name__)
