"""The lists that grow with the clinic: caseload, admin patient directory, patient search.

Each is one keyset page (careplans/paging.py) of at most PAGE_SIZE rows, whatever the clinic's
size (issue 14), searchable by name, MRN or birth date (issue 16 item 2; careplans/search.py);
the search box, its audit and the pager are careplans/list_pages.py.
"""

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from careplans import selectors
from careplans.list_pages import page_context, search_audited, search_query
from careplans.models import CarePlanStatus, CareTeamMember, Patient
from careplans.paging import KeysetPage, keyset_page
from careplans.search import patients_matching
from clinic.access import Action, AuthenticatedRequest, clinical_page, sees_all_demographics, user_can

PLAN_FILTERS = [
    (CarePlanStatus.ACTIVE.value, "Active plan"),
    (CarePlanStatus.DRAFT.value, "Draft plan"),
    (CarePlanStatus.ON_HOLD.value, "Plan on hold"),
    (selectors.NO_PLAN, "No plan yet"),
]


@clinical_page()
def caseload(request: AuthenticatedRequest) -> HttpResponse:
    """My caseload: one page of my care teams' patients, by name; filter by plan status, search."""
    if not user_can(request.user, Action.VIEW_CLINICAL):
        return redirect("careplans:patient_directory")
    query, plan_status = search_query(request), request.GET.get("plan", "")
    patients = selectors.with_plan_status(selectors.caseload_for(request.user), plan_status)
    page = keyset_page(patients_matching(patients, query), after=request.GET.get("after"))
    if query:
        search_audited(request.user, page, "caseload")
    context = page_context(
        request, page, query=query, plan_status=plan_status, plan_filters=PLAN_FILTERS, today=timezone.localdate()
    )
    return render(request, "careplans/caseload.html", context)


def _with_active_team(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    active = CareTeamMember.objects.filter(ended_at__isnull=True).select_related("user")
    return patients.prefetch_related(Prefetch("care_team", queryset=active, to_attr="active_team"))


@clinical_page(action=Action.MANAGE_CARE_TEAM)
def patient_directory(request: AuthenticatedRequest) -> HttpResponse:
    """Clinic admins: every patient with demographics and care team, no clinical content."""
    query, status = search_query(request), request.GET.get("status", "")
    patients = selectors.patients_visible_to(request.user)
    if status in {"active", "discharged"}:
        patients = patients.filter(status=status)
    page = keyset_page(_with_active_team(patients_matching(patients, query)), after=request.GET.get("after"))
    if query:
        search_audited(request.user, page, "directory")
    return render(request, "careplans/patient_directory.html", page_context(request, page, query=query, status=status))


@clinical_page(action=Action.VIEW_DEMOGRAPHICS)
def patient_search(request: AuthenticatedRequest) -> HttpResponse:
    """The header search box's results: the patients the caller may see, demographics only.

    A clinician opens the chart; a clinic admin, who never sees clinical content, the care team."""
    query = search_query(request)
    page = KeysetPage(rows=[], next_after=None, is_first=True)
    if query:
        found = selectors.patient_search(user=request.user, query=query)
        page = keyset_page(found, after=request.GET.get("after"))
        search_audited(request.user, page, "search")
    clinician = user_can(request.user, Action.VIEW_CLINICAL)
    # A user who is both clinician and admin: the chart only for their own care teams' patients.
    on_my_teams: set[int] = set()
    if clinician and page.rows:
        on_my_teams = set(
            selectors.patients_on_care_team_of(request.user)
            .filter(pk__in=[p.pk for p in page.rows])
            .values_list("pk", flat=True)
        )
    rows = [{"patient": p, "chart": p.pk in on_my_teams} for p in page.rows]
    context = page_context(request, page, query=query, rows=rows, sees_all=sees_all_demographics(request.user))
    return render(request, "careplans/patient_search.html", context)
