"""Worklist items from between-session check-ins (issue 17 item 3, for the Today page of issue 16).

`check_in_worklist_items(user)` returns what the worklist registry expects:
[{kind, patient, title, due_date, severity, url}] — `patient` is the Patient, `url` the place the
item is handled (the patient's Patient links tab). It reads only the caller's care teams and the
last 14 days, in two queries whatever the caseload size.
"""

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from careplans.selectors import patients_on_care_team_of
from clinic.models import User
from patient_portal.models import CheckIn, MedicationTaken
from patient_portal.submissions import LOW_MOOD_AT_MOST, MISSED_IN_A_ROW

WORKLIST_KIND = "check_in_concern"
LOOK_BACK = timedelta(days=14)


def check_in_worklist_items(user: User) -> list[dict[str, Any]]:
    since = timezone.localdate() - LOOK_BACK
    rows = (
        CheckIn.objects.filter(patient__in=patients_on_care_team_of(user), answered_on__gte=since)
        .select_related("patient")
        .order_by("patient_id", "-answered_on", "-created_at", "-id")
    )
    by_patient: dict[int, list[CheckIn]] = defaultdict(list)
    for row in rows:
        by_patient[row.patient_id].append(row)
    items = []
    for check_ins in by_patient.values():
        latest = check_ins[0]
        patient = latest.patient
        url = reverse("patient_portal:tab", kwargs={"patient_id": patient.public_id})
        if latest.mood <= LOW_MOOD_AT_MOST:
            items.append(
                {
                    "kind": WORKLIST_KIND,
                    "patient": patient,
                    "title": f"Check-in mood {latest.mood}/10: contact the patient",
                    "due_date": latest.answered_on,
                    "severity": "high",
                    "url": url,
                }
            )
        answered = [c for c in check_ins if c.medication_taken][:MISSED_IN_A_ROW]
        if len(answered) == MISSED_IN_A_ROW and all(c.medication_taken == MedicationTaken.NO for c in answered):
            items.append(
                {
                    "kind": WORKLIST_KIND,
                    "patient": patient,
                    "title": f"Medication not taken at the last {MISSED_IN_A_ROW} check-ins",
                    "due_date": answered[0].answered_on,
                    "severity": "medium",
                    "url": url,
                }
            )
    return items
