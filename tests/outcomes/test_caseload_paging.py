"""The measurement-based care caseload is one page of 50 at any caseload size (issue 14):
paged by keyset in each sort order, searchable, with a constant number of queries."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careplans.models import TeamRole
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)
URL = reverse("outcomes:mbc_caseload")


@pytest.fixture(autouse=True)
def _today():  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield


def caseload(prescriber, care_manager, n: int, scored: bool = True) -> list:  # type: ignore[no-untyped-def]
    patients = []
    for i in range(n):
        p = PatientFactory(family_name=f"Fam{i:03d}", given_name="Pat")
        CareTeamMemberFactory(patient=p, user=prescriber, role=TeamRole.PRESCRIBER)
        if scored:
            record(p, care_manager, "PHQ-9", i % 25, TODAY - timedelta(weeks=1))
        patients.append(p)
    return patients


def names(html: str) -> list[str]:
    """The family names of the table's rows, in order (each row's first cell links the chart)."""
    cells = re.findall(r'<td><a href="[^"]+">([^<]+)</a>', html)
    return [found.group(0) for found in (re.search(r"Fam\d{3}", cell) for cell in cells) if found]


def next_link(html: str) -> str | None:
    found = re.search(r'<a href="\?([^"]+)" rel="next">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, query: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    pages: list[list[str]] = []
    link: str | None = query
    while link is not None:
        html = client.get(f"{URL}?{link}").content.decode()
        pages.append(names(html))
        link = next_link(html)
    return pages


def test_pages_of_50_with_every_patient_once(browser_client, prescriber, care_manager):
    patients = caseload(prescriber, care_manager, 60, scored=False)
    pages = walk(browser_client(prescriber), "sort=name")
    assert [len(page) for page in pages] == [50, 10]
    everyone = [name for page in pages for name in page]
    assert everyone == sorted(p.family_name for p in patients)


def test_score_sort_runs_across_pages(browser_client, prescriber, care_manager):
    patients = caseload(prescriber, care_manager, 60)
    pages = walk(browser_client(prescriber), "sort=phq9")
    assert [len(page) for page in pages] == [50, 10]
    everyone = [name for page in pages for name in page]
    score = {p.family_name: i % 25 for i, p in enumerate(patients)}
    expected = sorted(score, key=lambda name: (-score[name], name))
    assert everyone == expected  # highest PHQ-9 first, names breaking ties, none twice or missing


def test_search_narrows_and_keeps_the_sort(browser_client, prescriber, care_manager):
    caseload(prescriber, care_manager, 12)
    html = browser_client(prescriber).get(URL + "?q=Fam01&sort=phq9").content.decode()
    assert sorted(names(html)) == [f"Fam{i:03d}" for i in range(10, 12)]
    assert '<a href="?q=Fam01&amp;sort=name"' in html  # a heading keeps the search


def _queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL + "?sort=not_improving").status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_caseload(browser_client, prescriber, care_manager):
    client = browser_client(prescriber)
    caseload(prescriber, care_manager, 5)
    small = _queries(client)
    caseload(prescriber, care_manager, 55)
    large = _queries(client)
    assert small == large == 5  # session, user, page, scores of the page, nav badge
