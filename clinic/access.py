"""Who may do what: one role x action matrix read by permission code and by the tests.

Two questions decide every request (DESIGN.md, SECURITY.md AC-2, AC-5):
1. Visibility: is the patient on the caller's caseload? Answered in
   `careplans.selectors` (active care-team membership); anything else is a 404.
2. Capability: may a holder of the caller's roles do this action? Answered here.
A user with several roles may do what any of them may.
"""

from enum import StrEnum

from clinic.models import Role, User


class Action(StrEnum):
    # Clinical content of a patient on the caller's care team.
    VIEW_CLINICAL = "view_clinical"
    EDIT_CARE_PLAN = "edit_care_plan"
    SEND_TEAM_MESSAGE = "send_team_message"
    PRESCRIBE = "prescribe"  # start/stop regimens, change doses
    RECORD_SIDE_EFFECT = "record_side_effect"
    RECORD_ADHERENCE = "record_adherence"
    RECORD_LAB_RESULT = "record_lab_result"
    LOG_THERAPY_SESSION = "log_therapy_session"
    ENTER_ASSESSMENT = "enter_assessment"
    FLAG_CASE_REVIEW = "flag_case_review"
    RECORD_CASE_REVIEW = "record_case_review"
    # The risk assessment that answers a PHQ-9 item-9 safety alert (prescribers, therapists).
    RECORD_SAFETY_FOLLOW_UP = "record_safety_follow_up"
    # Demographics and care teams.
    CREATE_PATIENT = "create_patient"
    VIEW_DEMOGRAPHICS = "view_demographics"
    EDIT_DEMOGRAPHICS = "edit_demographics"
    MANAGE_CARE_TEAM = "manage_care_team"
    # Clinic administration.
    MANAGE_STAFF = "manage_staff"
    VIEW_AUDIT = "view_audit"
    RUN_REPORTS = "run_reports"
    CONFIGURE_CATALOGS = "configure_catalogs"  # medications, protocols, interaction rules, ...


_CLINICIAN = {
    Action.VIEW_CLINICAL,
    Action.EDIT_CARE_PLAN,
    Action.SEND_TEAM_MESSAGE,
    Action.RECORD_SIDE_EFFECT,
    Action.RECORD_ADHERENCE,
    Action.RECORD_LAB_RESULT,
    Action.ENTER_ASSESSMENT,
    Action.CREATE_PATIENT,
    Action.VIEW_DEMOGRAPHICS,
    Action.EDIT_DEMOGRAPHICS,
    Action.MANAGE_CARE_TEAM,
}

MATRIX: dict[Role, frozenset[Action]] = {
    Role.PRESCRIBER: frozenset(
        _CLINICIAN | {Action.PRESCRIBE, Action.RECORD_CASE_REVIEW, Action.RECORD_SAFETY_FOLLOW_UP}
    ),
    Role.THERAPIST: frozenset(_CLINICIAN | {Action.LOG_THERAPY_SESSION, Action.RECORD_SAFETY_FOLLOW_UP}),
    Role.CARE_MANAGER: frozenset(_CLINICIAN | {Action.FLAG_CASE_REVIEW}),
    # Admins run the clinic but never read clinical content (DESIGN.md roles table).
    Role.CLINIC_ADMIN: frozenset(
        {
            Action.CREATE_PATIENT,
            Action.VIEW_DEMOGRAPHICS,
            Action.EDIT_DEMOGRAPHICS,
            Action.MANAGE_CARE_TEAM,
            Action.MANAGE_STAFF,
            Action.VIEW_AUDIT,
            Action.RUN_REPORTS,
            Action.CONFIGURE_CATALOGS,
        }
    ),
}

# Actions on a patient that need care-team membership; the rest are clinic-wide.
NEEDS_CARE_TEAM = frozenset(
    {
        Action.VIEW_CLINICAL,
        Action.EDIT_CARE_PLAN,
        Action.SEND_TEAM_MESSAGE,
        Action.PRESCRIBE,
        Action.RECORD_SIDE_EFFECT,
        Action.RECORD_ADHERENCE,
        Action.RECORD_LAB_RESULT,
        Action.LOG_THERAPY_SESSION,
        Action.ENTER_ASSESSMENT,
        Action.FLAG_CASE_REVIEW,
        Action.RECORD_CASE_REVIEW,
        Action.RECORD_SAFETY_FOLLOW_UP,
    }
)


def user_can(user: User | None, action: Action) -> bool:
    """Whether any of the user's roles allows `action`. Fails closed for anonymous users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return any(action in MATRIX[Role(role)] for role in user.roles)


def sees_all_demographics(user: User) -> bool:
    """Clinic admins see every patient's demographics and care team, never clinical content."""
    return user_can(user, Action.MANAGE_CARE_TEAM) and Role.CLINIC_ADMIN in user.roles
