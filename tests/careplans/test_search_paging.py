"""Patient search (issue 16 item 2) and the bounded patient lists (issue 14): the header search
page, `GET /api/v1/patients/?search=`, keyset pages of the caseload, the admin directory and the
patient-list API, with query counts pinned at two sizes."""

from datetime import date

import pytest
from django.urls import reverse

from careplans.models import CarePlanStatus, Patient, TeamRole
from careplans.paging import PAGE_SIZE
from careplans.search import normalised, search_name_for
from clinic.models import AuditEvent
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory

pytestmark = pytest.mark.django_db


def on_team(user, **fields) -> Patient:  # type: ignore[no-untyped-def]
    patient = PatientFactory(**fields)
    CareTeamMemberFactory(patient=patient, user=user, role=TeamRole.PRESCRIBER)
    return patient


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [row["family_name"] for row in response.json()["results"]]


# --- what a search matches -------------------------------------------------------------------


def test_normalised_names_ignore_case_and_accents():
    assert normalised("  Müller-LÜDENSCHEIDT ") == "muller-ludenscheidt"
    assert search_name_for(given_name="Zoë", family_name="Ñúñez", preferred_name="") == "nunez zoe"


def test_search_name_follows_every_save_and_bulk_create():
    patient = PatientFactory(given_name="Renée", family_name="Dubois")
    assert patient.search_name == "dubois renee"
    patient.family_name = "Lefèvre"
    patient.save(update_fields=["family_name"])
    assert Patient.objects.get(pk=patient.pk).search_name == "lefevre renee"
    [bulk] = Patient.objects.bulk_create(
        [Patient(mrn="B-1", given_name="José", family_name="Núñez", birth_date=date(1970, 1, 1))]
    )
    assert Patient.objects.get(pk=bulk.pk).search_name == "nunez jose"


def test_api_search_by_partial_name_any_case_and_accents(api, prescriber):
    on_team(prescriber, given_name="José", family_name="Núñez")
    on_team(prescriber, given_name="Ana", family_name="Nunes")
    on_team(prescriber, given_name="Olga", family_name="Berg")
    client = api(prescriber)
    assert names(client.get("/api/v1/patients/", {"search": "NUNEZ"})) == ["Núñez"]
    assert names(client.get("/api/v1/patients/", {"search": "nun"})) == ["Nunes", "Núñez"]
    assert names(client.get("/api/v1/patients/", {"search": "josé nú"})) == ["Núñez"]  # every word must match
    assert names(client.get("/api/v1/patients/", {"search": "zzz"})) == []


def test_api_search_by_mrn_and_birth_date(api, prescriber):
    on_team(prescriber, family_name="Alpha", mrn="A-100", birth_date=date(1990, 4, 2))
    on_team(prescriber, family_name="Beta", mrn="A-101", birth_date=date(1980, 1, 1))
    on_team(prescriber, family_name="Gamma", mrn="B-200", birth_date=date(1990, 4, 2))
    client = api(prescriber)
    assert names(client.get("/api/v1/patients/", {"search": "a-100"})) == ["Alpha"]
    assert names(client.get("/api/v1/patients/", {"search": "A-10"})) == ["Alpha", "Beta"]  # MRN prefix
    assert names(client.get("/api/v1/patients/", {"search": "1990-04-02"})) == ["Alpha", "Gamma"]
    assert names(client.get("/api/v1/patients/", {"search": "02.04.1990"})) == ["Alpha", "Gamma"]
    assert names(client.get("/api/v1/patients/", {"search": "gamma 1990-04-02"})) == ["Gamma"]


def test_search_finds_only_patients_the_caller_may_see(api, prescriber, outsider, clinic_admin):
    on_team(prescriber, family_name="Visible")
    PatientFactory(family_name="Visibleelsewhere")  # on no team of the prescriber's
    assert names(api(prescriber).get("/api/v1/patients/", {"search": "visible"})) == ["Visible"]
    assert names(api(outsider).get("/api/v1/patients/", {"search": "visible"})) == []
    # The clinic admin searches every patient's demographics.
    assert names(api(clinic_admin).get("/api/v1/patients/", {"search": "visible"})) == ["Visible", "Visibleelsewhere"]


def test_api_status_filter(api, clinic_admin):
    PatientFactory(family_name="Here")
    PatientFactory(family_name="Gone", status="discharged")
    assert names(api(clinic_admin).get("/api/v1/patients/", {"status": "discharged"})) == ["Gone"]


# --- the header search page ------------------------------------------------------------------


def test_search_page_links_a_clinician_to_the_chart_and_is_audited_without_the_words(browser_client, prescriber):
    patient = on_team(prescriber, given_name="Zoë", family_name="Ångström")
    body = browser_client(prescriber).get(reverse("careplans:patient_search"), {"q": "angstrom"}).content.decode()
    assert reverse("careplans:chart", args=[patient.public_id]) in body
    assert 'id="header-search"' in body and "search_shortcut.js" in body
    event = AuditEvent.objects.filter(action="search", actor=prescriber).get()
    assert event.changes == {"matches": [str(patient.public_id)]}
    assert "angstrom" not in str(event.changes).lower()


def test_search_page_for_a_clinic_admin_shows_demographics_and_links_the_care_team(browser_client, clinic_admin):
    patient = PatientFactory(family_name="Okafor", mrn="Q-7")
    CarePlanFactory(patient=patient, summary="Private formulation text")
    body = browser_client(clinic_admin).get(reverse("careplans:patient_search"), {"q": "okaf"}).content.decode()
    assert reverse("careplans:care_team", args=[patient.public_id]) in body
    assert f'href="{reverse("careplans:chart", args=[patient.public_id])}"' not in body
    assert "Q-7" in body and "Private formulation" not in body


def test_search_page_says_when_nothing_matches(browser_client, prescriber):
    body = browser_client(prescriber).get(reverse("careplans:patient_search"), {"q": "nobody"}).content.decode()
    assert "No patient found" in body


# --- bounded pages -----------------------------------------------------------------------------


def test_api_list_pages_by_cursor_and_keeps_the_contract_shape(api, prescriber):
    for n in range(7):
        on_team(prescriber, family_name=f"Name{n}", given_name="Same")
    client = api(prescriber)
    first = client.get("/api/v1/patients/", {"page_size": 3}).json()
    assert set(first) >= {"count", "next", "previous", "results"}
    assert first["count"] == 7 and first["count_exact"] is True and first["previous"] is None
    assert [r["family_name"] for r in first["results"]] == ["Name0", "Name1", "Name2"]
    second = client.get(first["next"]).json()
    assert [r["family_name"] for r in second["results"]] == ["Name3", "Name4", "Name5"]
    assert second["previous"] is not None and "after=" not in second["previous"]
    last = client.get(second["next"]).json()
    assert [r["family_name"] for r in last["results"]] == ["Name6"] and last["next"] is None
    # No name in any link: the cursor is the last patient's public id.
    assert "Name" not in first["next"] + second["next"]


def test_api_list_still_answers_page_numbers(api, prescriber):
    for n in range(3):
        on_team(prescriber, family_name=f"P{n}")
    body = api(prescriber).get("/api/v1/patients/", {"page": 1}).json()
    assert body["count"] == 3 and [r["family_name"] for r in body["results"]] == ["P0", "P1", "P2"]


def test_a_cursor_naming_an_invisible_patient_starts_from_the_top(api, prescriber):
    on_team(prescriber, family_name="Aa")
    hidden = PatientFactory(family_name="Mm")
    assert names(api(prescriber).get("/api/v1/patients/", {"after": str(hidden.public_id)})) == ["Aa"]
    assert names(api(prescriber).get("/api/v1/patients/", {"after": "not-a-uuid"})) == ["Aa"]


def test_count_stops_at_the_limit(api, clinic_admin, settings, monkeypatch):
    import careplans.paging

    monkeypatch.setattr(careplans.paging, "COUNT_LIMIT", 4)
    for _ in range(6):
        PatientFactory()
    body = api(clinic_admin).get("/api/v1/patients/").json()
    assert body["count"] == 4 and body["count_exact"] is False and len(body["results"]) == 6


@pytest.mark.parametrize("size", [3, 60])
def test_api_first_page_query_count_is_flat(api, prescriber, size, django_assert_max_num_queries):
    for _ in range(size):
        on_team(prescriber)
    with django_assert_max_num_queries(4):  # rows, bounded count (+ auth/session on a real client)
        body = api(prescriber).get("/api/v1/patients/").json()
    assert len(body["results"]) == min(size, PAGE_SIZE)


@pytest.mark.parametrize("size", [3, 60])
def test_caseload_page_is_one_bounded_page_with_flat_queries(
    browser_client, prescriber, size, django_assert_max_num_queries
):
    for n in range(size):
        on_team(prescriber, family_name=f"Case{n:03d}")
    client = browser_client(prescriber)
    client.get(reverse("careplans:caseload"))  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get(reverse("careplans:caseload"))
    body = response.content.decode()
    assert body.count('href="/patients/') - body.count('href="/patients/search') >= min(size, PAGE_SIZE)
    assert ("Next 50 patients" in body) is (size > PAGE_SIZE)
    if size > PAGE_SIZE:
        following = client.get(reverse("careplans:caseload") + "?" + response.context["next_page_query"])
        assert "Case050" in following.content.decode() and "Case049" not in following.content.decode()


def test_caseload_filters_by_plan_status_and_searches(browser_client, prescriber):
    active = on_team(prescriber, family_name="Withplan")
    CarePlanFactory(patient=active, status=CarePlanStatus.ACTIVE)
    held = on_team(prescriber, family_name="Onhold")
    CarePlanFactory(patient=held, status=CarePlanStatus.ON_HOLD)
    on_team(prescriber, family_name="Planless")
    client = browser_client(prescriber)

    def shown(**params: str) -> set[str]:
        rows = client.get(reverse("careplans:caseload"), params).context["patients"]
        return {p.family_name for p in rows}

    assert shown(plan="active") == {"Withplan"}
    assert shown(plan="on_hold") == {"Onhold"}
    assert shown(plan="none") == {"Planless"}
    assert shown(q="plan") == {"Withplan", "Planless"}
    assert shown(plan="bogus") == {"Withplan", "Onhold", "Planless"}


@pytest.mark.parametrize("size", [3, 60])
def test_admin_directory_is_paged_and_searchable_with_flat_queries(
    browser_client, clinic_admin, size, django_assert_max_num_queries
):
    for n in range(size):
        CareTeamMemberFactory(patient=PatientFactory(family_name=f"Dir{n:03d}"))
    client = browser_client(clinic_admin)
    client.get(reverse("careplans:patient_directory"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("careplans:patient_directory"))
    assert len(response.context["patients"]) == min(size, PAGE_SIZE)
    found = client.get(reverse("careplans:patient_directory"), {"q": "dir002"}).context["patients"]
    assert [p.family_name for p in found] == ["Dir002"]
