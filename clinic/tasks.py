"""Celery tasks of the clinic app: the audit sealer and anchor (settings.CELERY_BEAT_SCHEDULE).

Both are safe to run twice at once (CE-4): the sealer takes the chain head's row lock, and a
second anchor line only repeats the head."""

from celery import shared_task

from clinic.audit_chain import audit_anchor, audit_seal


@shared_task(name="clinic.tasks.audit_seal_task")
def audit_seal_task() -> int:
    return audit_seal()


@shared_task(name="clinic.tasks.audit_anchor_task")
def audit_anchor_task() -> int:
    return audit_anchor().seq
