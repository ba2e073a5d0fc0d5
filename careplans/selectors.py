"""Every non-trivial read of patients and care plans, with visibility built in (STYLE.md rule 4).

A clinician sees a patient only while an active member of its care team; a clinic
admin sees demographics and care teams of every patient, never clinical content.
Everyone else gets a 404, and the refusal is audited (SECURITY.md AC-2, AL-1).
"""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from careplans.models import (
    BreakGlassGrant,
    CarePlan,
    CarePlanStatus,
    CarePlanVersion,
    CareTeamMember,
    Goal,
    GoalStatusChange,
    Patient,
)
from careplans.search import patients_matching
from clinic.access import Action, sees_all_demographics, user_can, visible_or_404
from clinic.models import User


def patients_on_care_team_of(user: User) -> QuerySet[Patient]:
    """Patients whose clinical record the user may read: active care-team membership, or an
    unexpired break-glass grant (issue 12 item 6). Every clinical read and write goes through
    this, so an emergency access opens and closes everywhere at once, with no second door."""
    if not user.is_authenticated or not user.is_active or not user_can(user, Action.VIEW_CLINICAL):
        return Patient.objects.none()
    # `id IN (members UNION grants)`, not `EXISTS (...) OR EXISTS (...)`: PostgreSQL cannot turn an
    # OR of EXISTS into a join, so it scanned every patient of the clinic with two hashed subplans
    # and estimated 75 % of them visible (75,000 of 100k for a 5,000-patient caseload), which made
    # every caseload-wide list plan large enough to be JIT-compiled (issue 14). The union is
    # estimated at the caseload's size and joined by patient id.
    return Patient.objects.filter(pk__in=_visible_patient_ids(user))


def _visible_patient_ids(user: User) -> QuerySet[Any]:
    """The rule itself: the user's active memberships UNION unexpired break-glass grants."""
    members = CareTeamMember.objects.filter(user=user, ended_at__isnull=True).order_by().values("patient_id")
    grants = BreakGlassGrant.objects.filter(user=user, expires_at__gt=timezone.now()).order_by().values("patient_id")
    return members.union(grants)


def on_care_team_of(user: User, *, patient_field: str = "patient") -> Q:
    """The same visibility as patients_on_care_team_of, as a per-row check on a patient record's
    own table (`patient_field` names its patient column): EXISTS(membership) OR EXISTS(grant).
    Also the header badge's plan: over one user's few reminders, two index probes per row
    (EXPLAIN ANALYZE at 100k patients: 603 ms as an IN over the patients, 7 ms this way).

    For a caseload-wide list ordered by date (assessments, ...) this lets PostgreSQL walk the
    index of the ordering and keep the first rows that pass (two hashed subplans), instead of
    joining every record of the caseload and sorting them: at 100k patients the first page of a
    5,000-patient caseload's assessments took 875 ms joined and 66 ms walked (issue 14)."""
    if not user.is_authenticated or not user.is_active or not user_can(user, Action.VIEW_CLINICAL):
        return Q(pk__in=[])
    member = CareTeamMember.objects.filter(patient=OuterRef(patient_field), user=user, ended_at__isnull=True)
    grant = BreakGlassGrant.objects.filter(patient=OuterRef(patient_field), user=user, expires_at__gt=timezone.now())
    return Q(Exists(member)) | Q(Exists(grant))


def patient_ids_on_care_team_of(user: User) -> QuerySet[Any]:
    """The pks of `patients_on_care_team_of(user)`, the same rule, as a subquery for reads over many
    patients (the Today worklist): the user's active memberships UNION unexpired grants, which
    PostgreSQL reads once by the user's index, where the two EXISTS of the patient queryset are probed
    for every row of the other table (issue 14: 0.86 s -> 0.2 s for a 5,000-patient caseload at 100k).
    tests/today/test_worklist.py proves both name the same patients."""
    if not user.is_authenticated or not user.is_active or not user_can(user, Action.VIEW_CLINICAL):
        return Patient.objects.none().values("pk")
    return _visible_patient_ids(user)


def patients_open_to_break_glass(user: User) -> QuerySet[Patient]:
    """The patients a clinician may ask emergency access to: any of the clinic's, if their role
    allows it (clinic admins never: no clinical role). Names nothing until a reason is given."""
    if not user.is_authenticated or not user.is_active or not user_can(user, Action.BREAK_GLASS):
        return Patient.objects.none()
    return Patient.objects.all()


def break_glass_active_for(*, user: User, patient: Patient) -> BreakGlassGrant | None:
    """The user's running emergency access to this chart, for the banner (None if on the team)."""
    return (
        BreakGlassGrant.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )


def break_glass_grants_for_review(user: User) -> QuerySet[BreakGlassGrant]:
    """Every emergency access, newest first, for the clinic admins' review (audit viewers)."""
    if not user_can(user, Action.VIEW_AUDIT):
        return BreakGlassGrant.objects.none()
    return BreakGlassGrant.objects.select_related("patient", "user").order_by("-started_at", "-id")


def patients_visible_to(user: User) -> QuerySet[Patient]:
    """Patients whose demographics the user may see: their caseload, or all for clinic admins."""
    if not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if sees_all_demographics(user):
        return Patient.objects.all()
    return patients_on_care_team_of(user)


def patient_for_clinical_use(*, user: User, public_id: UUID | str) -> Patient:
    """The patient, if the user is on its care team; else an audited 404."""
    return visible_or_404(patients_on_care_team_of(user), user=user, public_id=public_id)


def patient_for_demographics(*, user: User, public_id: UUID | str) -> Patient:
    return visible_or_404(patients_visible_to(user), user=user, public_id=public_id)


def care_team_of(patient: Patient) -> QuerySet[CareTeamMember]:
    return (
        CareTeamMember.objects.filter(patient=patient, ended_at__isnull=True)
        .select_related("user")
        .order_by("role", "user__last_name", "id")
    )


def ended_membership_of(patient: Patient, *, public_id: str) -> CareTeamMember | None:
    """An ended membership of this patient (for its undo), or None for anything else or a bad id."""
    try:
        key = UUID(str(public_id))
    except ValueError:
        return None
    return (
        CareTeamMember.objects.filter(patient=patient, public_id=key, ended_at__isnull=False)
        .select_related("user")
        .first()
    )


def caseload_for(user: User) -> QuerySet[Patient]:
    """My caseload: patients on my care team, each with its open care plan and my team role."""
    open_plans = CarePlan.objects.exclude(status=CarePlanStatus.COMPLETED)
    return (
        patients_on_care_team_of(user)
        .prefetch_related(
            Prefetch("care_plans", queryset=open_plans, to_attr="open_plans"),
            Prefetch(
                "care_team",
                queryset=CareTeamMember.objects.filter(ended_at__isnull=True).select_related("user"),
                to_attr="active_team",
            ),
        )
        .order_by("family_name", "given_name", "id")
    )


NO_PLAN = "none"  # the caseload filter value for "no open care plan yet"


def with_plan_status(patients: QuerySet[Patient], status: str | None) -> QuerySet[Patient]:
    """Patients whose open care plan has `status` (`none`: no open plan). Unknown values: no filter."""
    open_plans = CarePlan.objects.filter(patient=OuterRef("pk")).exclude(status=CarePlanStatus.COMPLETED)
    if status == NO_PLAN:
        return patients.filter(~Exists(open_plans))
    if status in CarePlanStatus.values and status != CarePlanStatus.COMPLETED:
        return patients.filter(Exists(open_plans.filter(status=status)))
    return patients


def patient_search(*, user: User, query: str, scope: str = "demographics") -> QuerySet[Patient]:
    """Search over the patients the user may see: their care teams', or every patient's
    demographics for a clinic admin (issue 16 item 2; careplans/search.py)."""
    visible = patients_visible_to(user) if scope == "demographics" else patients_on_care_team_of(user)
    return patients_matching(visible, query)


def care_plan_versions(care_plan: CarePlan) -> QuerySet[CarePlanVersion]:
    """The plan's kept versions, newest first, with who saved each."""
    return CarePlanVersion.objects.filter(care_plan=care_plan).select_related("saved_by").order_by("-version")


def care_plans_visible_to(user: User) -> QuerySet[CarePlan]:
    return CarePlan.objects.filter(patient__in=patients_on_care_team_of(user)).select_related("patient", "updated_by")


def care_plan_for(*, user: User, public_id: UUID | str) -> CarePlan:
    return visible_or_404(care_plans_visible_to(user), user=user, public_id=public_id)


def open_care_plan_of(patient: Patient) -> CarePlan | None:
    return (
        CarePlan.objects.filter(patient=patient)
        .exclude(status=CarePlanStatus.COMPLETED)
        .select_related("updated_by", "relapse_plan")
        .first()
    )


def goals_of(care_plan: CarePlan) -> QuerySet[Goal]:
    return Goal.objects.filter(care_plan=care_plan).select_related("status_changed_by")


def goals_with_history_of(care_plan: CarePlan) -> QuerySet[Goal]:
    """Goals with their status history (who moved each, when), one query for all of them."""
    history = GoalStatusChange.objects.select_related("changed_by").order_by("changed_at", "id")
    return goals_of(care_plan).prefetch_related(Prefetch("status_history", queryset=history))


def goal_for(*, user: User, care_plan: CarePlan, public_id: UUID | str) -> Goal:
    return visible_or_404(goals_of(care_plan), user=user, public_id=public_id)


def active_team_members(*, roles: Iterable[str] | None = None) -> QuerySet[CareTeamMember]:
    """Active memberships, optionally of some team roles: the recipients reminder rules address."""
    members = CareTeamMember.objects.filter(ended_at__isnull=True, user__is_active=True)
    if roles is not None:
        members = members.filter(role__in=list(roles))
    return members
