"""The clinic admins' bulk-read alarm (issue 12 item 4): clinic/bulk_reads.py counts, this
writes one urgent inbox item per clinic admin, e-mailed at once by the urgent delivery (a
count and a link only). The item names the user by id and counts; never a patient."""

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from reminders.delivery import clinic_admin_ids
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write

alarm_logger = logging.getLogger("tandem.alarm")


def bulk_read_alarm_write(*, user_id: int, patients: int, window_start: datetime, **kwargs: Any) -> None:
    from clinic.models import User

    user = User.objects.filter(pk=user_id).only("public_id").first()
    if user is None:
        return
    alarm_logger.error(
        "bulk read: user %s opened %d patients' records since %s", user.public_id, patients, window_start
    )
    reminders_write(
        ReminderDraft(
            recipient_id=admin_id,
            patient_id=None,
            kind=ReminderKind.BULK_READ,
            subject_type="clinic.user",
            subject_id=f"{user.public_id}@{window_start:%Y%m%d%H}",  # one item per user and hour
            due_date=timezone.localdate(window_start),
            detail=f"User {user.public_id} opened {patients} patients' records in the hour from "
            f"{timezone.localtime(window_start):%H:%M}; see the audit trail.",
        )
        for admin_id in clinic_admin_ids()
        if admin_id != user_id
    )
