"""Break-glass: emergency access to a chart off the caller's care team (issue 12 item 6).

A clinician gives a reason; for `BREAK_GLASS_HOURS` (default 4) the patient is in their clinical
scope (careplans.selectors.patients_on_care_team_of: the one access path, nothing else opens).
The opening is audited (ids and the expiry; the reason stays in the grant row, never in the audit
row), and the care team and the clinic admins are told at once (urgent inbox item `break_glass`).
Private process notes stay the author's only (therapy.selectors filters them by author).
Clinic admins cannot break glass: they hold no clinical role (clinic.access MATRIX).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import BreakGlassGrant, CareTeamMember, Patient
from clinic.access import Action, require
from clinic.access_notices import BREAK_GLASS, AccessNotice, access_notice_send
from clinic.audit import audit_record
from clinic.models import AuditAction, User

REASON_MAX = 500
REASON_REQUIRED = "Say why you need emergency access to this chart: the reason is reviewed by the clinic admins."
ON_TEAM_ALREADY = "You are on this patient's care team: open the chart as usual."


def break_glass_hours() -> int:
    return int(settings.BREAK_GLASS_HOURS)


def break_glass_open(*, patient: Patient, actor: User, reason: str) -> BreakGlassGrant:
    require(actor, Action.BREAK_GLASS)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    if CareTeamMember.objects.filter(patient=patient, user=actor, ended_at__isnull=True).exists():
        raise ValidationError({"reason": ON_TEAM_ALREADY})
    return _grant_write(patient=patient, actor=actor, reason=reason)


@transaction.atomic
def _grant_write(*, patient: Patient, actor: User, reason: str) -> BreakGlassGrant:
    now = timezone.now()
    grant = BreakGlassGrant(
        patient=patient,
        user=actor,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(hours=break_glass_hours()),
    )
    grant.full_clean()
    grant.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=grant,
        patient_id=patient.public_id,
        changes={"expires_at": [None, grant.expires_at.isoformat()]},
    )
    until = timezone.localtime(grant.expires_at).strftime("%Y-%m-%d %H:%M")
    access_notice_send(
        AccessNotice(
            kind=BREAK_GLASS,
            actor=actor,
            summary=f"Emergency access to the chart of {patient.mrn} by {actor}, until {until}. "
            "The reason is in the break-glass report.",
            subject_type="careplans.breakglassgrant",
            subject_id=str(grant.public_id),
            patient_pk=patient.pk,
        )
    )
    return grant


def break_glass_banner(*, patient: Patient, user: User) -> dict[str, object] | None:
    """The chart banner while the user's emergency access to this chart runs (one query; called
    by careplans.chart.chart_context for a user off the team only)."""
    from careplans.selectors import break_glass_active_for

    grant = break_glass_active_for(user=user, patient=patient)
    if grant is None:
        return None
    return {"template": "careplans/_break_glass_banner.html", "context": {"grant": grant}}
