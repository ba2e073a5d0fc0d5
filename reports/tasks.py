"""The Celery task that computes a background report run. Its one argument is the run's
pk (no patient data in task arguments, SECURITY.md LG-1/CE-5); idempotent: a redelivered
message for a finished run does nothing."""

from celery import shared_task

from reports.runs import report_run_execute


@shared_task(ignore_result=True)
def report_run_task(run_id: int) -> None:
    report_run_execute(run_id=run_id)


@shared_task(ignore_result=True)
def report_facts_refresh_dirty_task() -> None:
    """Beat, every few minutes: recompute the patients marked since the last refresh (pages
    also do this before they read, so this only keeps their share small)."""
    from reports.facts import facts_refresh_dirty

    facts_refresh_dirty()


@shared_task(ignore_result=True)
def report_facts_rebuild_task() -> None:
    """Beat, nightly: rebuild everyone (facts that no write marks: a renamed staff member, a
    bulk load, a new day's monitoring schedule)."""
    from reports.facts import facts_refresh_all

    facts_refresh_all()
