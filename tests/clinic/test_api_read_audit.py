"""Every read of clinical content through the API is audited as through the pages (issue 12
item 4): one event per request naming the patient or patients shown.

The walk covers every GET route on the API router whose viewset is clinical, with the ids of a
patient's real records (the world of tests/clinic/test_access_path.py), as a member of the
patient's care team, with and without `?patient=`. A new clinical read route is walked
without a new test.
"""

from typing import Any

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from clinic.viewsets import ClinicalViewSet, PatientFilter
from tests.clinic.test_access_path import API_ROUTES, Route, ids_for, other_team  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db, request):  # type: ignore[no-untyped-def]
    from tests.medications.conftest import ensure_catalog

    ensure_catalog()  # a transactional test's flush may have emptied the shipped catalog
    return request.getfixturevalue("other_team")


def _clinical_reads() -> list[Route]:
    return [
        route
        for route in API_ROUTES
        if "GET" in route.methods
        and route.viewset is not None
        and issubclass(route.viewset, ClinicalViewSet)
        and route.viewset.clinical
    ]


def _named(event: AuditEvent) -> set[str]:
    return {str(event.patient_id)} if event.patient_id else set(event.changes.get("patients", []))


def _walk(api_client: Any, world: dict[str, Any]) -> tuple[list[str], list[str]]:
    patient = str(world["patient"].public_id)
    audited, wrong = [], []
    for route in _clinical_reads():
        url = reverse(route.reverse_name, kwargs=ids_for(route, world))
        variants = [url]
        filterset = route.viewset.filterset_class
        if filterset is not None and issubclass(filterset, PatientFilter) and not route.name.endswith("-detail"):
            variants.append(f"{url}?patient={patient}")
        for variant in variants:
            before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            response = api_client.get(variant)
            reads = list(AuditEvent.objects.filter(id__gt=before, action="read"))
            if response.status_code != 200:
                wrong.append(f"{variant}: {response.status_code}")
            elif len(reads) != 1 or _named(reads[0]) != {patient}:
                wrong.append(f"{variant}: {[(e.object_type, sorted(_named(e))) for e in reads]}")
            else:
                audited.append(variant)
    return audited, wrong


def test_every_clinical_api_read_route_writes_one_event_naming_the_patient(world, api, prescriber, capsys):
    audited, wrong = _walk(api(prescriber), world)
    assert wrong == []
    routes = len(_clinical_reads())
    with capsys.disabled():
        print(f"\naudited API read routes: {routes} routes, {len(audited)} requests (with ?patient= variants)")  # noqa: T201  (the count for the report)
    assert routes >= 25


def test_a_list_of_several_patients_names_each_in_one_event(api, prescriber, patient, care_plan):
    from careplans.models import TeamRole
    from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory

    second = PatientFactory()
    CareTeamMemberFactory(patient=second, user=prescriber, role=TeamRole.PRESCRIBER)
    CarePlanFactory(patient=second)
    assert api(prescriber).get("/api/v1/care-plans/").status_code == 200
    (event,) = AuditEvent.objects.filter(action="read")
    assert event.patient_id is None and event.changes == {
        "patients": sorted([str(patient.public_id), str(second.public_id)])
    }
    assert event.object_type == "careplans.careplan"


def test_an_empty_list_and_a_refused_read_write_no_read_event(api, outsider, prescriber, patient):
    assert api(prescriber).get("/api/v1/regimens/").status_code == 200  # no regimen yet: nothing shown
    assert api(outsider).get(f"/api/v1/regimens/?patient={patient.public_id}").status_code == 404
    assert not AuditEvent.objects.filter(action="read").exists()
    assert AuditEvent.objects.filter(action="access_denied", actor=outsider).count() == 1


def test_a_clinic_admin_reading_demographics_writes_no_clinical_read(api, clinic_admin, patient):
    assert api(clinic_admin).get(f"/api/v1/patients/{patient.public_id}/").status_code == 200
    assert not AuditEvent.objects.filter(action="read").exists()


# --- what the read audit costs -----------------------------------------------------------------


def test_read_audit_costs_at_most_one_query_and_one_insert(api, prescriber, care_plan, django_assert_num_queries):
    client = api(prescriber)
    url = f"/api/v1/care-plans/{care_plan.public_id}/"
    client.get(url)  # warm: content types, session
    # Pinned: the plan (1) + its audit: the patient's id (1) and one INSERT (1). Main had 1, unaudited.
    with django_assert_num_queries(PINNED_CARE_PLAN_DETAIL) as captured:
        assert client.get(url).status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    assert sum('"clinic_auditevent"' in q for q in sql) == 1
    assert not any("SELECT" in q and "clinic_auditevent" in q for q in sql)  # no scan of the trail per request


PINNED_CARE_PLAN_DETAIL = 3
