"""Links the daily reminder scan sends on its own: check-ins on the clinician's schedule, and (when
the clinic turns it on) a self-report questionnaire when outcomes' measurement_due rule fires.

Both are registered as reminder rules (they run in the same daily scan) but write links, not
reminders, so they return no drafts. A patient without an e-mail gets no automatic link.
"""

from datetime import date, timedelta

from django.db.models import Max
from django.utils import timezone

from careplans.models import Patient, PatientStatus
from patient_portal import links
from patient_portal.models import (
    SCHEDULE_INTERVAL,
    CheckInSchedule,
    LinkPurpose,
    PatientLink,
    PortalSettings,
    ScheduleFrequency,
)
from reminders.outbox import ReminderDraft


def check_in_links_due(today: date) -> list[ReminderDraft]:
    """A new check-in link for each active schedule whose last link is a day (a week) old."""
    schedules = (
        CheckInSchedule.objects.filter(active=True, patient__status=PatientStatus.ACTIVE)
        .exclude(patient__email="")
        .select_related("patient", "set_by")
        .annotate(last_sent=Max("links__created_at"))
    )
    for schedule in schedules:
        interval = SCHEDULE_INTERVAL[ScheduleFrequency(schedule.frequency)]
        if schedule.last_sent and timezone.localdate(schedule.last_sent) > today - interval:
            continue
        links.link_create(
            patient=schedule.patient,
            actor=schedule.set_by,
            purpose=LinkPurpose.CHECK_IN,
            days=max(1, interval.days),
            email=True,
            schedule=schedule,
        )
    return []


def measurement_links_due(today: date) -> list[ReminderDraft]:
    """Off by default (PortalSettings.measurement_links). For each measurement outcomes finds due,
    e-mail the patient a link for that instrument, unless one was sent in the last week."""
    if not PortalSettings.current().measurement_links:
        return []
    from outcomes.reminders import measurement_due

    recent = set(
        PatientLink.objects.filter(
            purpose=LinkPurpose.QUESTIONNAIRE, created_at__gte=timezone.now() - timedelta(days=7)
        ).values_list("patient_id", flat=True)
    )
    due: dict[int, tuple[int, str]] = {}
    for draft in measurement_due(today):
        instrument = "GAD-7" if "GAD-7" in draft.detail else "PHQ-9"
        if draft.patient_id is not None and draft.patient_id not in recent:
            due.setdefault(draft.patient_id, (draft.recipient_id, instrument))
    patients = Patient.objects.filter(pk__in=list(due)).exclude(email="")
    from clinic.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in=[v[0] for v in due.values()])}
    for patient in patients:
        recipient_id, instrument = due[patient.pk]
        links.link_create(
            patient=patient,
            actor=users[recipient_id],
            purpose=LinkPurpose.QUESTIONNAIRE,
            instrument=instrument,
            email=True,
        )
    return []
