"""The regimen and lab-result lists over a prescriber's whole caseload: the number of queries
does not grow with it, and the count stops at COUNT_LIMIT (`count_exact` false) while the
pages still run to the end (issue 14, as the assessment and therapy-course lists do)."""

from datetime import date, timedelta

import pytest

from careplans.models import TeamRole
from tests.clinic.test_caseload_list_apis import _queries
from tests.factories import CareTeamMemberFactory, PatientFactory

pytestmark = pytest.mark.django_db
TAKEN = date.today() - timedelta(days=2)


@pytest.fixture
def caseload(prescriber, start_regimen, add_lab):  # type: ignore[no-untyped-def]
    """caseload(n): n more patients of the prescriber, each with a regimen and an ALT result."""

    def grow(n: int) -> None:
        for _ in range(n):
            patient = PatientFactory()
            CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
            start_regimen(patient, "Olanzapine", "5", start_date=TAKEN)
            add_lab(patient, "lft", "20", TAKEN)

    return grow


@pytest.mark.parametrize("url", ["/api/v1/regimens/", "/api/v1/lab-results/"])
def test_list_queries_do_not_grow_with_the_caseload(api, prescriber, caseload, url):
    client = api(prescriber)
    caseload(3)
    small, body = _queries(client, url)
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert (body["count"], body["count_exact"], body["next"], len(body["results"])) == (3, True, None, 3)
    caseload(50)
    large, body = _queries(client, url)
    assert (body["count"], body["count_exact"], len(body["results"])) == (53, True, 50)
    assert body["next"].endswith("?page=2")
    assert small == large


@pytest.mark.parametrize("url", ["/api/v1/regimens/", "/api/v1/lab-results/"])
def test_count_stops_at_the_limit_and_the_pages_still_reach_the_end(api, prescriber, caseload, monkeypatch, url):
    monkeypatch.setattr("careplans.paging.COUNT_LIMIT", 20)  # 10,000 in the clinic
    caseload(55)
    client = api(prescriber)
    first = client.get(url).json()
    assert (first["count"], first["count_exact"]) == (20, False) and first["next"].endswith("page=2")
    second = client.get(first["next"]).json()
    assert second["next"] is None and len(second["results"]) == 5
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 55


def test_an_outsider_sees_an_empty_bounded_list(api, therapist, caseload):
    caseload(2)
    body = api(therapist).get("/api/v1/lab-results/").json()  # the therapist is on no team here
    assert (body["count"], body["count_exact"], body["results"]) == (0, True, [])
