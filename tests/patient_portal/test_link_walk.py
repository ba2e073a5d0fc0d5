"""Every self-report URL, walked with wrong, expired, used and revoked tokens (issue 17 Security):
nothing but a plain 404/410, no patient data, and a link opens only its own form or page."""

import pytest
from django.urls import get_resolver

from patient_portal import links
from tests.patient_portal.helpers import expire, make_link, token_of

pytestmark = pytest.mark.django_db

SELF_REPORT_URLS = ["/p/{token}/", "/api/v1/self-report/{token}/"]


def test_the_walk_covers_every_token_route():
    token_routes = sorted(
        str(pattern.pattern)
        for resolver in [get_resolver()]
        for pattern in _all_patterns(resolver)
        if "<str:token>" in str(pattern.pattern)
    )
    assert token_routes == sorted(["p/<str:token>/", "api/v1/self-report/<str:token>/"])


def _all_patterns(resolver):  # type: ignore[no-untyped-def]
    for entry in resolver.url_patterns:
        if hasattr(entry, "url_patterns"):
            yield from _all_patterns(entry)
        else:
            yield entry


def _states(patient, user):  # type: ignore[no-untyped-def]
    used = make_link(patient, user)
    from patient_portal.submissions import questionnaire_submit

    questionnaire_submit(token=token_of(used.url), responses=[0] * 9, address="10.0.0.9")
    expired = make_link(patient, user)
    expire(expired.link)
    revoked = make_link(patient, user)
    links.link_revoke(link=revoked.link, actor=user)
    return {
        "wrong": ("A" * 43, 404),
        "short": ("abc", 404),
        "expired": (token_of(expired.url), 410),
        "used": (token_of(used.url), 410),
        "revoked": (token_of(revoked.url), 410),
    }


@pytest.mark.parametrize("url", SELF_REPORT_URLS)
def test_every_url_with_bad_tokens(client, care_manager, patient, url):
    for name, (token, expected) in _states(patient, care_manager).items():
        for method in ("get", "post"):
            response = getattr(client, method)(url.format(token=token))
            assert response.status_code == expected, (name, method, response.status_code)
            body = response.content.decode()
            assert patient.family_name not in body and patient.given_name not in body
            assert response["Referrer-Policy"] == "no-referrer" and response["Cache-Control"] == "no-store"


def test_a_link_grants_nothing_else(client, care_manager, patient, care_plan):
    created = make_link(patient, care_manager)
    assert client.get(created.path).status_code == 200
    # No session was made: every chart page still asks for a login.
    for path in (
        f"/patients/{patient.public_id}/links/",
        f"/patients/{patient.public_id}/outcomes/",
        f"/patients/{patient.public_id}/plan/print/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(f"/api/v1/patients/{patient.public_id}/").status_code in (401, 403)
    # A questionnaire token does not open the check-in API, nor does a take-home token answer anything.
    take_home = make_link(patient, care_manager, purpose="take_home")
    assert client.post(f"/api/v1/self-report/{token_of(take_home.url)}/", {"responses": [0] * 9}).status_code == 404
    check_in = make_link(patient, care_manager, purpose="check_in")
    response = client.post(
        f"/api/v1/self-report/{token_of(check_in.url)}/", {"responses": [0] * 9}, content_type="application/json"
    )
    assert response.status_code == 400  # mood is required: a check-in, not a questionnaire
    from outcomes.models import Assessment

    assert not Assessment.objects.exists()
