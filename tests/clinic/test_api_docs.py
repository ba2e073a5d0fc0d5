"""/api/docs/ works under the site-wide CSP without loosening it (SECURITY.md HD-1, issue 10).

The browser half (Swagger UI renders, 0 CSP violations) is tests/browser/test_api_docs.py.
"""

import re

import pytest

pytestmark = pytest.mark.django_db

# The policy of clinic/settings.py, as django-csp 4 writes it: the same on every page.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def _directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


@pytest.mark.parametrize("url", ["/", "/api/v1/patients/", "/api/docs/", "/api/docs/?script"])
def test_every_page_keeps_the_one_strict_policy(client, prescriber, url):
    client.force_login(prescriber)
    response = client.get(url)
    assert response.status_code == 200
    assert _directives(response.headers["Content-Security-Policy"]) == POLICY


def test_docs_page_has_no_inline_script_or_style(client, prescriber):
    client.force_login(prescriber)
    page = client.get("/api/docs/").content.decode()
    assert "<style" not in page and " style=" not in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all('src="' in attributes for attributes in scripts), scripts
    assert 'src="/api/docs/?script="' in page  # the init script, served by the same view


def test_init_script_is_served_as_javascript(client, prescriber):
    client.force_login(prescriber)
    response = client.get("/api/docs/?script")
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode() and '"/api/schema/"' in response.content.decode()


@pytest.mark.parametrize("url", ["/api/docs/", "/api/docs/?script"])
def test_docs_need_a_login_like_the_schema(client, url):
    assert client.get(url).status_code in (401, 403)
