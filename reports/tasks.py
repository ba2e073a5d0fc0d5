"""The Celery task that computes a background report run. Its one argument is the run's
pk (no patient data in task arguments, SECURITY.md LG-1/CE-5); idempotent: a redelivered
message for a finished run does nothing."""

from celery import shared_task

from reports.runs import report_run_execute


@shared_task(ignore_result=True)
def report_run_task(run_id: int) -> None:
    report_run_execute(run_id=run_id)
