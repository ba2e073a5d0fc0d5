"""The one access path, by construction (issue 10).

1. Every API viewset on the router is a `ClinicalViewSet` or an `AdminViewSet`, and every page
   is wrapped in `clinical_page`; a new endpoint that is neither fails here.
2. The outsider walk: every route the URL resolver knows, filled with the ids of another care
   team's objects, requested with GET and each write method it accepts, as a clinician who holds
   every clinical role but is not on that team, and as a clinic admin. Clinical routes answer 404
   to both; clinic-administration routes answer 403 to the clinician (DESIGN.md API contract).
   A new route is walked without a new test; a new kind of id in a URL fails until it is named
   in `ids_for` below.
3. `?patient=` gives the same answer (404, audited) on every list endpoint for an invisible,
   unknown or malformed patient id.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from careplans.models import CarePlanTask, TeamRole
from clinic.access import Action
from clinic.models import AuditEvent
from clinic.urls import router
from clinic.viewsets import AdminViewSet, ClinicalViewSet, PatientFilter
from cocm.models import CareMinutes
from medications.models import AdherenceCheck, CriticalResult, DoseChange, Medication, MonitoringException
from outcomes import services as outcome_services
from outcomes.cssrs import CssrsAnswers
from outcomes.models import SafetyFollowUp
from patient_portal import links
from reminders.models import ReminderKind
from reports.models import ReportRun
from tests.factories import GoalFactory, UserFactory
from tests.reminders.reminder_factories import ReminderFactory, TeamMessageFactory
from tests.reports import builders
from tests.therapy.factories import modality_catalog_ensure

# Pages that need no login or are not Tandem's own (the Django admin has its own permission model).
OPEN_PAGES = {
    ":login",
    ":login_code",  # the second sign-in step: no session yet, only a pending password step
    ":logout",
    ":health",
    ":api-docs",
    ":schema",
    # Django's password reset views (issue 13): before any sign-in, by design.
    ":password_reset",
    ":password_reset_done",
    ":password_reset_confirm",
    ":password_reset_complete",
    # Patient links (issue 17): no login, the token is the only credential. Walked with wrong,
    # expired, used and revoked tokens in tests/patient_portal/test_link_walk.py.
    "patient_portal_public:open",
    ":self-report",
}
# The token API's own views (sign-in and sign-out), not on the router.
AUTH_API = {":api-token", ":api-logout", ":api-logout-all"}
ADMIN_ACTIONS = {Action.MANAGE_STAFF, Action.VIEW_AUDIT, Action.RUN_REPORTS}
# Routes whose objects are not another team's: the medication catalog (any clinician reads it).
PUBLIC_BASENAMES = {"medication"}
# Demographics routes a clinic admin may use on every patient (AC-5).
DEMOGRAPHICS_BASENAMES = {"patient", "careteam"}
# The one deliberate door (issue 12 item 6): a clinician off the team opens a chart for a few
# hours by giving a reason. Walking it as the outsider would open every later route, so it is not
# walked as the clinician; tests/careplans/test_break_glass.py tests it (reason, 404 for unknown
# ids and for clinic admins, expiry, notices). The admin walk still expects its 404.
BREAK_GLASS_ROUTES = {"careplans:break_glass", ":breakglass-list"}


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name
    kwargs: tuple[str, ...]
    callback: Any
    methods: tuple[str, ...]

    @property
    def reverse_name(self) -> str:
        return self.name.removeprefix(":")

    @property
    def viewset(self) -> type | None:
        return getattr(self.callback, "cls", None)

    @property
    def page_access(self) -> dict[str, Any] | None:
        return getattr(self.callback, "page_access", None)


def _routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                kwargs = tuple(entry.pattern.regex.groupindex)
                if "format" in kwargs:
                    continue  # DRF's format-suffix twins of the same views
                callback = entry.callback
                if hasattr(callback, "actions"):
                    allowed = set(callback.cls.http_method_names)
                    methods = tuple(sorted(m.upper() for m in callback.actions if m in allowed))
                else:
                    methods = tuple(getattr(callback, "page_access", {}).get("methods", ("GET", "POST")))
                found.append(Route(f"{namespace}:{entry.name}", kwargs, callback, methods))

    walk(get_resolver(), "")
    return found


ROUTES = _routes()
API_ROUTES = [route for route in ROUTES if hasattr(route.callback, "actions")]  # viewsets on the router
PAGES = [
    route
    for route in ROUTES
    if route.viewset is None
    and route.name not in OPEN_PAGES
    and not route.name.startswith("admin:")
    and route.name not in AUTH_API
]


def test_every_api_viewset_goes_through_a_base_viewset():
    bare = sorted(
        {
            route.viewset.__name__
            for route in API_ROUTES
            if not issubclass(route.viewset, ClinicalViewSet | AdminViewSet)
        }
    )
    assert bare == [], f"viewsets outside the access path: {bare}"
    assert len({route.viewset for route in API_ROUTES}) >= 20


def test_every_page_goes_through_clinical_page():
    bare = sorted(route.name for route in PAGES if route.page_access is None)
    assert bare == [], f"pages without @clinical_page: {bare}"
    assert len(PAGES) >= 50


def test_every_list_with_a_patient_filter_uses_the_one_filter():
    for route in API_ROUTES:
        filterset = getattr(route.viewset, "filterset_class", None)
        if filterset is not None:
            assert issubclass(filterset, PatientFilter), route.name


# --- The outsider walk ---------------------------------------------------------------------


@pytest.fixture
def other_team(db, prescriber, therapist, care_manager, clinic_admin):  # type: ignore[no-untyped-def]
    """A patient on a team of three, with one of every kind of record a URL can name."""
    modality_catalog_ensure()
    team = {TeamRole.PRESCRIBER: prescriber, TeamRole.THERAPIST: therapist, TeamRole.CARE_MANAGER: care_manager}
    patient = builders.patient(team=team)
    plan = builders.care_plan(patient)
    goal = GoalFactory(care_plan=plan)
    regimen = builders.regimen(patient, "Sertraline", date(2025, 2, 1), by=prescriber)
    change = builders.dose_change(regimen, "100", date(2025, 3, 1), by=prescriber)
    course = builders.course(patient, therapist, "CBT", date(2025, 2, 1))
    session = builders.session(course, date(2025, 2, 8), summary="shared summary")
    assessment = builders.score(patient, "PHQ-9", 14, date(2025, 2, 1), by=care_manager, item9=1)
    alert = builders.safety_alert(assessment)
    review = builders.case_review(patient, requested=date(2025, 4, 1), by=care_manager)
    other_admin = UserFactory(username="otheradmin", is_clinic_admin=True)
    lithium = builders.lab(patient, "lithium_level", "1.6", date(2025, 3, 8), by=prescriber)
    return {
        "patient": patient,
        "plan": plan,
        "goal": goal,
        "member": patient.care_team.get(user=therapist),
        "regimen": regimen,
        "change": change,
        "lab": lithium,
        "side_effect": builders.side_effect(patient, regimen, "mild", date(2025, 3, 2), by=prescriber),
        "adherence": AdherenceCheck.objects.create(
            patient=patient,
            regimen=regimen,
            checked_on=date(2025, 3, 2),
            method="self_report",
            percent=80,
            recorded_by=care_manager,
        ),
        "course": course,
        "session": session,
        "assessment": assessment,
        "alert": alert,
        "follow_up": SafetyFollowUp.objects.create(
            patient=patient,
            format="in_person",
            outcome="no_ideation",
            plan="routine",
            plan_details="Seen",
            recorded_by=therapist,
        ),
        "review": review,
        "task": CarePlanTask.objects.create(care_plan=plan, description="Recheck", created_by=prescriber),
        "reminder": ReminderFactory(recipient=prescriber, patient=patient, kind=ReminderKind.CARE_PLAN_REVIEW),
        "message": TeamMessageFactory(patient=patient, author=therapist),
        "run": ReportRun.objects.create(requested_by=other_admin, report="therapy"),
        "staff": therapist,
        "medication": Medication.objects.get(name="Sertraline"),
        "exception": MonitoringException.objects.create(
            patient=patient,
            regimen=regimen,
            test="bmi",
            kind="waived",
            due_date=date(2025, 2, 1),
            reason="x",
            recorded_by=prescriber,
        ),
        "link": links.link_create(
            patient=patient, actor=care_manager, purpose="questionnaire", instrument="PHQ-9"
        ).link,
        "critical": CriticalResult.objects.create(
            patient=patient, lab_result=lithium, code="lithium-toxic", severity="critical", message="x", source="x"
        ),
        "minutes": CareMinutes.objects.create(
            patient=patient, logged_by=care_manager, day=date(2025, 3, 2), minutes=30, activity="follow_up"
        ),
        "screen": outcome_services.cssrs_screen_record(
            patient=patient,
            actor=care_manager,
            answers=CssrsAnswers(False, False, None, None, None, False),  # negative: no second alert
            screened_on=date(2025, 2, 2),
        ),
    }


# URL kwarg -> the object it names (router detail routes: `public_id`, by basename).
KWARG_OBJECTS = {
    "patient_id": "patient",
    "patient_public_id": "patient",
    "care_plan_public_id": "plan",
    "regimen_public_id": "regimen",
    "regimen_id": "regimen",
    "goal_id": "goal",
    "member_id": "member",
    "change_id": "change",
    "course_id": "course",
    "session_id": "session",
    "assessment_id": "assessment",
    "task_id": "task",
    "reminder_id": "reminder",
    "message_id": "message",
    "run_id": "run",
    "user_id": "staff",
    "critical_id": "critical",
    "link_id": "link",
}
BASENAME_OBJECTS = {
    "user": "staff",
    "patient": "patient",
    "careteam": "member",
    "careplan": "plan",
    "goal": "goal",
    "reminder": "reminder",
    "medication": "medication",
    "regimen": "regimen",
    "labresult": "lab",
    "sideeffect": "side_effect",
    "adherencecheck": "adherence",
    "therapycourse": "course",
    "therapysession": "session",
    "assessment": "assessment",
    "safetyalert": "alert",
    "safetyfollowup": "follow_up",
    "casereview": "review",
    "reportrun": "run",
    "criticalresult": "critical",
    "careminutes": "minutes",
    "monitoringexception": "exception",
    "questionnairelink": "link",
    "cssrsscreen": "screen",
}
PLAIN_VALUES = {"instrument": "phq-9", "key": "therapy", "verb": "pause", "test": "anc", "version": "1"}


BASENAMES = sorted((basename for _, _, basename in router.registry), key=len, reverse=True)


def _basename(route: Route) -> str:
    """The router basename of an API route (`regimen-pause` -> `regimen`); a page's name."""
    name = route.name.split(":")[-1]
    return next((b for b in BASENAMES if name.startswith(b + "-")), name)


def ids_for(route: Route, world: dict[str, Any]) -> dict[str, str]:
    values = {}
    for kwarg in route.kwargs:
        if kwarg in PLAIN_VALUES:
            values[kwarg] = PLAIN_VALUES[kwarg]
        elif kwarg == "public_id":
            values[kwarg] = str(world[BASENAME_OBJECTS[_basename(route)]].public_id)
        else:
            assert kwarg in KWARG_OBJECTS, f"{route.name}: name the object `{kwarg}` points at in KWARG_OBJECTS"
            values[kwarg] = str(world[KWARG_OBJECTS[kwarg]].public_id)
    return values


def _is_admin_route(route: Route) -> bool:
    if route.viewset is not None:
        return issubclass(route.viewset, AdminViewSet)
    return (route.page_access or {}).get("action") in ADMIN_ACTIONS


def _expected(route: Route, persona: str) -> int | None:
    """What the persona must get for another team's object, or None where it is allowed."""
    if not route.kwargs or set(route.kwargs) <= set(PLAIN_VALUES):
        return None  # lists and forms that name no object: covered by the leak check below
    if route.name in BREAK_GLASS_ROUTES:
        return None if persona == "clinician" else 404
    if _is_admin_route(route):
        if persona == "clinician":
            # Clinicians run their caseload's reports (reports.base audiences), so the runs
            # are theirs too: another user's run is a 404 like any object they may not see.
            return 404 if _basename(route) == "reportrun" else 403
        return 404 if "run_id" in route.kwargs or _basename(route) == "reportrun" else None
    if _basename(route) in PUBLIC_BASENAMES:
        return None
    if persona == "clinic_admin":
        demographics = (
            _basename(route) in DEMOGRAPHICS_BASENAMES
            if route.viewset is not None
            else (route.page_access or {}).get("scope") == "demographics"
        )
        if demographics:
            return None
    return 404


def _client(user: Any, api: bool) -> Any:
    if api:
        client = APIClient()
        client.force_authenticate(user=user)
        return client
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
def test_outsider_walk_every_route_with_another_teams_ids(other_team, outsider, clinic_admin, persona):
    user = outsider if persona == "clinician" else clinic_admin
    api, pages = _client(user, api=True), _client(user, api=False)
    doses_before = DoseChange.objects.filter(regimen=other_team["regimen"]).count()
    walked, wrong = 0, []
    for route in ROUTES:
        if route not in API_ROUTES and route not in PAGES:
            continue
        expected = _expected(route, persona)
        if expected is None:
            continue
        url = reverse(route.reverse_name, kwargs=ids_for(route, other_team))
        client = api if route.viewset is not None else pages
        for method in route.methods:
            walked += 1
            response = getattr(client, method.lower())(
                url,
                {"reason": "x", "summary": "x"},
                **({"format": "json"} if route.viewset is not None and method != "GET" else {}),
            )
            if response.status_code != expected:
                wrong.append(f"{method} {url} ({route.name}): {response.status_code}, expected {expected}")
    assert wrong == [], "\n".join(wrong)
    assert walked >= (100 if persona == "clinician" else 80)
    # Nothing the walk tried changed the other team's records.
    assert DoseChange.objects.filter(regimen=other_team["regimen"]).count() == doses_before
    assert other_team["patient"].care_team.filter(ended_at__isnull=True).count() == 3


def test_outsider_lists_and_pages_show_nothing_of_another_team(other_team, outsider):
    """Every list endpoint and id-free page, read by an outsider: the other team's patient is in
    none of them (neither its id nor its name)."""
    api, pages = _client(outsider, api=True), _client(outsider, api=False)
    patient = other_team["patient"]
    read = 0
    for route in API_ROUTES + PAGES:
        if route.kwargs and not set(route.kwargs) <= set(PLAIN_VALUES):
            continue
        if "GET" not in route.methods or _is_admin_route(route):
            continue
        client = api if route.viewset is not None else pages
        response = client.get(reverse(route.reverse_name, kwargs={k: PLAIN_VALUES[k] for k in route.kwargs}))
        read += 1
        body = response.content.decode()
        assert str(patient.public_id) not in body and patient.family_name not in body, route.name
    assert read >= 15


# --- The one ?patient= answer ----------------------------------------------------------------

PATIENT_FILTERED = sorted(
    {
        route.reverse_name
        for route in API_ROUTES
        if route.name.endswith("-list") and getattr(route.viewset, "filterset_class", None) is PatientFilter
    }
)


def test_patient_filter_is_on_every_patient_list():
    assert len(PATIENT_FILTERED) >= 12, PATIENT_FILTERED


@pytest.mark.parametrize("name", PATIENT_FILTERED)
def test_patient_filter_answers_404_for_invisible_unknown_and_malformed(other_team, outsider, clinic_admin, name):
    is_admin_list = any(route.reverse_name == name and _is_admin_route(route) for route in API_ROUTES)
    user = clinic_admin if is_admin_list else outsider
    client = _client(user, api=True)
    url = reverse(name)
    invisible = str(other_team["patient"].public_id) if not is_admin_list else None
    for value in filter(None, [invisible, str(uuid.uuid4()), "1 OR 1=1"]):
        before = AuditEvent.objects.filter(action="access_denied").count()
        assert client.get(url, {"patient": value}).status_code == 404, (name, value)
        assert AuditEvent.objects.filter(action="access_denied").count() == before + 1, (name, value)
    if not is_admin_list:
        # The team itself gets its patient's rows through the same filter.
        team_member = other_team["patient"].care_team.get(role=TeamRole.PRESCRIBER).user
        assert _client(team_member, api=True).get(url, {"patient": invisible}).status_code == 200


# --- FHIR routes (issue 18): DRF views off the router, walked here too ----------------------

FHIR_ROUTES = [route for route in ROUTES if getattr(route.viewset, "fhir_route", False)]
# Routes that name no patient: the CapabilityStatement and the transaction import (its own
# checks: tests/fhir_r4), and the bulk export's own runs (the requester's only: below).
FHIR_NO_PATIENT = {":fhir-metadata", ":fhir-transaction", ":fhir-patient-search", ":fhir-export"}


def test_every_fhir_route_is_walked():
    """Every FHIR view is a FhirView (OperationOutcome errors, the one access path); none is a page."""
    assert len(FHIR_ROUTES) >= 9
    assert {route.name for route in ROUTES if route.name.startswith(":fhir-")} == {r.name for r in FHIR_ROUTES}
    assert not any(route in PAGES for route in FHIR_ROUTES)


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
def test_outsider_walk_fhir_routes(other_team, outsider, clinic_admin, persona):
    """Every FHIR URL naming another team's patient (path or `?patient=`) answers 404 to an
    outsider clinician and to a clinic admin; another admin's export is a 404 too."""
    from fhir_r4.models import BulkExport

    user = outsider if persona == "clinician" else clinic_admin
    client = _client(user, api=True)
    patient_id = str(other_team["patient"].public_id)
    other_admin = other_team["run"].requested_by
    export = BulkExport.objects.create(
        requested_by=other_admin, expires_at=other_team["run"].created_at.replace(year=2999)
    )
    walked, wrong = 0, []
    for route in FHIR_ROUTES:
        if route.name in FHIR_NO_PATIENT or not route.kwargs:
            continue  # searches: `?patient=` below
        kwargs = {"patient_id": patient_id, "export_id": str(export.public_id), "name": "Patient.ndjson"}
        url = reverse(route.reverse_name, kwargs={k: kwargs[k] for k in route.kwargs})
        for method in ("GET", "DELETE") if route.name == ":fhir-export-status" else ("GET",):
            walked += 1
            response = getattr(client, method.lower())(url)
            if response.status_code != 404 or response.json().get("resourceType") != "OperationOutcome":
                wrong.append(f"{method} {url}: {response.status_code}")
    for name in ("fhir-observation-search", "fhir-medicationrequest-search"):
        walked += 1
        response = client.get(reverse(name), {"patient": patient_id})
        if response.status_code != 404:
            wrong.append(f"GET {name}?patient=: {response.status_code}")
    assert wrong == [], "\n".join(wrong)
    assert walked >= 7
    # The clinic-admin route: a clinician gets 403.
    kickoff = client.get(reverse("fhir-export"), HTTP_PREFER="respond-async")
    assert kickoff.status_code == (403 if persona == "clinician" else 202)
