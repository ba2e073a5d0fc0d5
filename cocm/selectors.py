"""Who sees collaborative-care minutes (minimum necessary, issue 12 item 5 / SECURITY.md AC-5).

A patient's entries are visible to the patient's active care team, the same scope as the
chart: in collaborative care the team shares the registry and the caseload review, and the
prescriber (the treating, billing practitioner who directs the care manager's work) and the
therapist need to see what outreach was done. The entries hold no clinical free text
(a date, minutes and an activity from a fixed list). Only care managers log them
(Action.LOG_CARE_MINUTES). A clinic admin sees no patient's entries: the admins' report is
per care manager and month, counts only (reports/cocm_minutes.py), which is what running the
programme (staffing, volume) needs; the per-patient billing list is the care team's, whose
billing practitioner submits the claim.
"""

from django.db.models import QuerySet

from careplans.selectors import patients_on_care_team_of
from clinic.models import User
from cocm.models import CareMinutes


def care_minutes_visible_to(user: User) -> QuerySet[CareMinutes]:
    return (
        CareMinutes.objects.filter(patient__in=patients_on_care_team_of(user))
        .select_related("patient", "logged_by")
        .order_by("-day", "-created_at", "-id")
    )


def care_minutes_of(patient_id: int) -> QuerySet[CareMinutes]:
    """A patient's current entries (the chart page: the patient is already resolved)."""
    return CareMinutes.objects.filter(patient_id=patient_id).select_related("logged_by").order_by("-day", "-id")
