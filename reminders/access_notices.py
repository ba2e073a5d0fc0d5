"""Access notices into the inbox (issue 12 items 1, 6): registered with clinic.access_notices.

The other clinic admins get the item without a patient on it (admins read no chart; it links to
the audit log or the break-glass report), the patient's active care team gets it on the patient
(it links to the Care team tab). The one who made the change is not told about their own change.
"""

from datetime import date

from django.db.models import Q
from django.utils import timezone

from careplans.selectors import active_team_members
from clinic.access_notices import AccessNotice
from clinic.models import User
from reminders.outbox import ReminderDraft, reminders_write


def access_notices_write(notice: AccessNotice) -> None:
    today = timezone.localdate()
    drafts: dict[int, ReminderDraft] = {}
    if notice.patient_pk is not None:
        team = active_team_members().filter(patient_id=notice.patient_pk).exclude(user_id=notice.actor.pk)
        for user_id in team.values_list("user_id", flat=True).distinct():
            drafts[user_id] = _draft(notice, user_id, notice.patient_pk, today)
    admins = (
        User.objects.filter(is_active=True)
        .filter(Q(is_clinic_admin=True) | Q(is_superuser=True))
        .exclude(pk=notice.actor.pk)
        .values_list("pk", flat=True)
    )
    for user_id in admins:
        drafts.setdefault(user_id, _draft(notice, user_id, None, today))  # on the team: the team's item
    reminders_write(drafts.values())


def _draft(notice: AccessNotice, user_id: int, patient_pk: int | None, today: date) -> ReminderDraft:
    return ReminderDraft(
        recipient_id=user_id,
        patient_id=patient_pk,
        kind=notice.kind,
        subject_type=notice.subject_type,
        subject_id=notice.subject_id,
        due_date=today,
        detail=notice.summary,
    )
