"""A favicon, and charts that open on Overview (issue 16 item 9)."""

import pytest
from django.urls import reverse


def test_favicon_is_served_at_the_root_without_signing_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.django_db
def test_every_page_links_the_icons(browser_client, prescriber):
    page = browser_client(prescriber).get("/").content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in page and "tandem/favicon.svg" in page


@pytest.mark.django_db
def test_the_caseload_opens_charts_on_the_overview_tab(browser_client, prescriber, patient):
    page = browser_client(prescriber).get(reverse("careplans:caseload")).content.decode()
    overview = reverse("outcomes:tab", kwargs={"patient_id": patient.public_id})
    assert f'href="{overview}"' in page
    chart = browser_client(prescriber).get(overview).content.decode()
    assert 'aria-current="page"' in chart and ">Overview<" in chart
