"""Who may do what: one role x action matrix read by permission code and by the tests.

Two questions decide every request (DESIGN.md, SECURITY.md AC-2, AC-5):
1. Visibility: is the patient on the caller's caseload? Answered in
   `careplans.selectors` (active care-team membership); anything else is a 404.
2. Capability: may a holder of the caller's roles do this action? Answered here.
A user with several roles may do what any of them may.
"""

from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django_htmx.middleware import HtmxDetails

from clinic.audit import audit_denied
from clinic.models import Role, User

M = TypeVar("M", bound=Model)


class AuthenticatedRequest(HttpRequest):
    """The request an HTML page receives (django-stubs' typed-request pattern; types only)."""

    # Every page goes through `clinical_page`, which runs login_required first.
    user: User
    htmx: HtmxDetails  # set by django_htmx's HtmxMiddleware


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
    # Emergency access to a chart off the caller's care team, with a reason (issue 12 item 6).
    BREAK_GLASS = "break_glass"
    # Collaborative-care minutes (cocm): the behavioural health care manager's own time log.
    LOG_CARE_MINUTES = "log_care_minutes"
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
    Action.BREAK_GLASS,
}

MATRIX: dict[Role, frozenset[Action]] = {
    Role.PRESCRIBER: frozenset(
        _CLINICIAN | {Action.PRESCRIBE, Action.RECORD_CASE_REVIEW, Action.RECORD_SAFETY_FOLLOW_UP}
    ),
    Role.THERAPIST: frozenset(_CLINICIAN | {Action.LOG_THERAPY_SESSION, Action.RECORD_SAFETY_FOLLOW_UP}),
    Role.CARE_MANAGER: frozenset(_CLINICIAN | {Action.FLAG_CASE_REVIEW, Action.LOG_CARE_MINUTES}),
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
        Action.LOG_CARE_MINUTES,
    }
)


def user_can(user: User | AnonymousUser | None, action: Action) -> bool:
    """Whether any of the user's roles allows `action`. Fails closed for anonymous users."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    assert isinstance(user, User)
    return any(action in MATRIX[Role(role)] for role in user.roles)


# The one access path (issue 10). Every view, viewset and writing service goes through these
# two: `require` for the caller's role, `visible_or_404` for the object's visibility.
ROLE_DENIED_MESSAGE = "Your role may not do this."


def require(
    user: User | AnonymousUser | None,
    action: Action,
    message: str = ROLE_DENIED_MESSAGE,
    *,
    object_type: str = "clinic.role",
    object_id: str = "",
) -> None:
    """Refuse (403, audited) unless one of the user's roles allows `action`.

    Called by the API base viewsets and the HTML view decorator before any input is read,
    and again by every writing service: the last line when a new caller forgets. (Inside a
    service's transaction the denial's audit row rolls back with it; the caller's did not.)"""
    if not user_can(user, action):
        actor = user if isinstance(user, User) else None
        audit_denied(actor=actor, object_type=object_type, object_id=object_id or str(action))
        raise PermissionDenied(message)


SELF_ROLE_CHANGE_MESSAGE = "You cannot change your own roles: another clinic admin must do it."
SELF_CARE_TEAM_MESSAGE = "You cannot add yourself to a care team: another team member or a clinic admin must do it."


def require_not_self(actor: User, subject: User, message: str, *, object_type: str, object_id: str) -> None:
    """Separation of duties (issue 12 item 1): nobody grants themselves access. 403, audited.

    A Django superuser is bound too: `roles` makes it a clinic admin, nothing more."""
    if actor.pk is not None and actor.pk == subject.pk:
        audit_denied(actor=actor, object_type=object_type, object_id=object_id)
        raise PermissionDenied(message)


def visible_or_404(queryset: "QuerySet[M]", *, user: User | AnonymousUser, public_id: UUID | str | Any) -> M:
    """The object with `public_id` from a visibility-scoped queryset, or an audited 404.

    Unknown, malformed and invisible ids get the same answer, so a 404 tells nothing about
    what exists (DESIGN.md: 404, never a 403 that leaks existence)."""
    try:
        return queryset.get(public_id=public_id)
    # ObjectDoesNotExist: the base of `queryset.model.DoesNotExist`, the only one `.get` raises.
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        actor = user if isinstance(user, User) else None
        audit_denied(actor=actor, object_type=queryset.model._meta.label_lower, object_id=str(public_id)[:64])
        raise Http404 from None


def sees_all_demographics(user: User) -> bool:
    """Clinic admins see every patient's demographics and care team, never clinical content."""
    return user_can(user, Action.MANAGE_CARE_TEAM) and Role.CLINIC_ADMIN in user.roles


# --- Which patients a user may name -----------------------------------------------------

_patient_scopes: dict[str, Callable[[User], QuerySet[Any]]] = {}


def patient_scope_register(
    *,
    clinical: Callable[[User], QuerySet[Any]],
    demographics: Callable[[User], QuerySet[Any]],
    break_glass: Callable[[User], QuerySet[Any]],
) -> None:
    """The patients a user may read: clinical content (care-team membership or an unexpired
    break-glass grant) and demographics (also every patient for a clinic admin); and the ones a
    clinician may ask emergency access to (`break_glass`: only the request for it names them).
    Registered by `careplans`, which `clinic` may not import (DESIGN.md app boundaries)."""
    _patient_scopes.update(clinical=clinical, demographics=demographics, break_glass=break_glass)


def patients_in_scope(user: User, *, scope: str = "clinical") -> QuerySet[Any]:
    assert scope in _patient_scopes, "careplans registers the patient scopes in its AppConfig.ready()"
    return _patient_scopes[scope](user)


# --- The HTML views' one decorator ------------------------------------------------------

View = Callable[..., HttpResponse]


def clinical_page(
    *,
    action: Action | None = None,
    methods: Iterable[str] = ("GET",),
    scope: str = "clinical",
    denied_as: str = "clinic.role",
) -> Callable[[View], View]:
    """Every HTML view's access path, in this order: a login, the patient the URL names
    (`patient_id`, resolved in `scope`: an audited 404 for anyone who may not see it), an
    allowed method (405), then the role (`action`: 403, audited as `denied_as`). The view receives
    `patient` for `patient_id`.

    `tests/clinic/test_access_path.py` fails for a page that is not wrapped in this."""

    def decorate(view: View) -> View:
        allowed = [method.upper() for method in methods]

        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            assert isinstance(user, User), "login_required runs first"
            if "patient_id" in kwargs:
                kwargs["patient"] = visible_or_404(
                    patients_in_scope(user, scope=scope), user=user, public_id=kwargs.pop("patient_id")
                )
            if request.method not in allowed:  # after the patient: an outsider learns nothing
                return HttpResponseNotAllowed(allowed)
            if action is not None:
                require(user, action, object_type=denied_as, object_id=request.path[:64])
            return view(request, *args, **kwargs)

        page = login_required(guarded)
        page.page_access = {"action": action, "scope": scope, "methods": tuple(allowed)}  # type: ignore[attr-defined]
        return page

    return decorate
