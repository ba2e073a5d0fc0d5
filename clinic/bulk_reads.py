"""The bulk-read alarm (issue 12 item 4): one user opening more than AUDIT_BULK_READ_THRESHOLD
distinct patients' records in one hour alerts the clinic admins, once per user and hour.

Counted in the cache (Redis in production), not by scanning the audit table: a read costs
two cache round trips (which of these patients are new this hour, then mark them and bump the
count) and no database query. Windows are clock hours, so "an hour" is the current hour.
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from clinic.models import User

WINDOW_SECONDS = 3600


def window_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()).replace(minute=0, second=0, microsecond=0)


def _keys(user_id: int, start: datetime) -> tuple[str, str, str]:
    stamp = start.strftime("%Y%m%d%H")
    base = f"audit:bulkread:{user_id}:{stamp}"
    return base + ":p:", base + ":count", base + ":alarmed"


def bulk_reads_count(user: User, patient_ids: Iterable[UUID | str | None]) -> int:
    """Add these patients to the user's distinct count for this hour; raise the alarm the
    first time it passes the threshold. Returns the count."""
    ids = {str(p) for p in patient_ids if p}
    if not ids:
        return 0
    start = window_start()
    prefix, count_key, alarmed_key = _keys(user.pk, start)
    seen = cache.get_many([prefix + p for p in ids])
    new = [prefix + p for p in ids if prefix + p not in seen]
    if not new:
        return -1  # nothing new: the count is unchanged (not read, to save a round trip)
    cache.set_many(dict.fromkeys(new, 1), timeout=WINDOW_SECONDS + 60)
    cache.add(count_key, 0, timeout=WINDOW_SECONDS + 60)
    count = cache.incr(count_key, len(new))
    if count > settings.AUDIT_BULK_READ_THRESHOLD and cache.add(alarmed_key, 1, timeout=WINDOW_SECONDS + 60):
        # After commit: a read that rolls back does not alarm; the alarm's own writes run outside
        # the request's transaction.
        transaction.on_commit(lambda: _alarm(user.pk, count, start))
    return count


def _alarm(user_id: int, count: int, start: datetime) -> None:
    from clinic.audit import audit_record, bulk_read_alarm
    from clinic.models import AuditAction

    with transaction.atomic():
        user = User.objects.get(pk=user_id)
        audit_record(
            actor=None,
            action=AuditAction.BULK_READ_ALARM,
            obj=user,
            changes={"patients": count, "threshold": settings.AUDIT_BULK_READ_THRESHOLD, "window": start.isoformat()},
        )
        bulk_read_alarm.send(sender=User, user_id=user_id, patients=count, window_start=start)
