"""Security baseline of SECURITY.md: sessions, lockout, passwords, headers, CSRF, URLs."""

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from clinic.models import AuditEvent, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


# --- AU-1 passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("a" * 5 + "bcdefg", False),  # 11 characters
        ("kettle-moon-9", True),  # 13
        ("kettle moon9", True),  # 12 with a space
        ("x7" * 32, True),  # 64
        ("y8" * 64, True),  # 128
        ("y8" * 64 + "z", False),  # 129
        ("🙂 emoji pass phrase", True),
        ("password1234", False),  # on Django's common-password list
    ],
)
def test_password_rules(password, accepted):
    user = User(username="someone")
    if accepted:
        validate_password(password, user)
    else:
        with pytest.raises(ValidationError):
            validate_password(password, user)


def test_production_hasher_is_pbkdf2_with_a_million_rounds(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory()
    user.set_password("a sufficiently long secret")
    assert user.password.startswith("pbkdf2_sha256$1000000$")


def test_migrations_create_no_default_accounts():
    assert not User.objects.filter(username__in=["admin", "root", "test"]).exists()


# --- AU-3 lockout -----------------------------------------------------------------------------


def test_ten_failures_lock_the_account_even_for_the_right_password(client, prescriber):
    statuses = [
        client.post("/login/", {"username": "prescriber", "password": "wrong password!"}).status_code for _ in range(12)
    ]
    assert statuses[:9] == [200] * 9 and set(statuses[9:]) <= {403, 429}  # at most 10 attempts processed
    response = client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=5)):
        response = client.post("/login/", {"username": "prescriber", "password": PASSWORD})
        assert response.status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(client, prescriber):
    wrong = client.post("/login/", {"username": "prescriber", "password": "wrong password!"})
    unknown = client.post("/login/", {"username": "nobody-here", "password": "wrong password!"})
    assert wrong.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]*"', "", html.decode())  # noqa: E731  (typed usernames differ)
    assert strip(wrong.content).replace("prescriber", "") == strip(unknown.content).replace("nobody-here", "")


def test_failed_login_is_audited_without_the_username(client, prescriber):
    client.post("/login/", {"username": "prescriber", "password": "wrong password!"})
    event = AuditEvent.objects.get(action="login_failed")
    assert event.outcome == "denied" and event.actor is None
    assert "prescriber" not in str(event.changes) + event.object_id


# --- SE-1, SE-2 sessions ------------------------------------------------------------------------


def test_idle_session_ends_after_15_minutes(client, prescriber, patient):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=14, seconds=50) + timedelta(minutes=15, seconds=10)):
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_active_session_ends_after_12_hours(client, prescriber, patient):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    for minutes in range(10, 12 * 60, 10):  # busy all day, never idle for 15 minutes
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12, seconds=1), tick=False):
        response = client.get("/")
        assert response.status_code == 302


def test_login_rotates_the_session_key_and_logout_kills_the_old_cookie(client, prescriber, patient):
    client.get("/login/")
    before = client.cookies.get("sessionid")
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    cookie = client.cookies["sessionid"].value
    assert before is None or before.value != cookie
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get("/").status_code == 302


def test_logout_is_audited(client, prescriber):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    client.post("/logout/")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["login", "logout"]


# --- HD-1, DP-3 headers -------------------------------------------------------------------------


def test_security_headers_on_pages_api_and_errors(client, prescriber, patient):
    client.force_login(prescriber)
    for url in ["/", f"/patients/{patient.public_id}/", "/api/v1/patients/", "/no-such-page/"]:
        response = client.get(url)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "no-store" in response.headers["Cache-Control"], url


# --- SE-4 CSRF ----------------------------------------------------------------------------------


def test_state_changing_requests_need_a_csrf_token(prescriber, care_plan):
    client = Client(enforce_csrf_checks=True)
    client.force_login(prescriber)
    url = f"/patients/{care_plan.patient.public_id}/care-plan/edit/"
    response = client.post(url, {"version": 1, "status": "active", "summary": "forged"})
    assert response.status_code == 403
    api_response = client.patch(
        f"/api/v1/care-plans/{care_plan.public_id}/", {"version": 1, "summary": "x"}, content_type="application/json"
    )
    assert api_response.status_code == 403
    care_plan.refresh_from_db()
    assert care_plan.summary != "forged"


def test_no_view_is_csrf_exempt_and_no_template_marks_data_safe():
    # The one exemption: the patient's own link page (patient_portal/public_views.py) has no session
    # or cookie for a forged request to borrow; the token in its URL is the credential (issue 17).
    exempt_ok = {"public_views.py"}
    code = "\n".join(
        p.read_text()
        for p in ROOT.glob("[a-z]*/**/*.py")
        if not {".venv", "tests"} & set(p.parts) and p.name not in exempt_ok
    )
    assert "csrf_exempt" not in code
    assert "mark_safe" not in code
    templates = "\n".join(p.read_text() for p in (ROOT / "templates").rglob("*.html"))
    assert "|safe" not in templates and "autoescape off" not in templates


# --- AC-1, DP-1 URLs ------------------------------------------------------------------------------

# "password_reset": Django's reset views, one allow-list entry (SECURITY.md AC-1 names it).
ANONYMOUS_ALLOWED = {"login", "health", "api-token", "logout", "password_reset"}


def _anonymous_allowed(name: str) -> bool:
    short = name.split(":")[-1]
    return short in ANONYMOUS_ALLOWED or short.startswith("password_reset_")


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):  # type: ignore[no-untyped-def]
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def _concrete(pattern: str) -> str:
    path = re.sub(r"<uuid:\w+>", "6f1c2a2e-0000-4000-8000-000000000001", pattern)
    path = re.sub(r"\(\?P<\w+>\[0-9a-f-\]\{36\}\)", "6f1c2a2e-0000-4000-8000-000000000001", path)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\Z", "")
    return "/" + re.sub(r"<[^>]+>", "x", path)


def test_every_url_requires_login_except_the_allow_list(client):
    opened = []
    for pattern, name, _ in _walk(get_resolver()):
        if pattern.startswith(("django-admin/", "static/")) or _anonymous_allowed(name):
            continue
        url = _concrete(pattern)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if 200 <= response.status_code < 300:
                opened.append((method, url))
    assert opened == []
    assert len(ANONYMOUS_ALLOWED) <= 5


def test_object_routes_use_uuids_never_integer_ids():
    offenders = [
        pattern
        for pattern, _, _ in _walk(get_resolver())
        # A care plan's version number is an ordinal inside one plan the caller already reached
        # by its UUID (history and restore), not an object id to enumerate.
        if re.search(r"<int:(?!version>)|<pk>|\(\?P<pk>", pattern) and not pattern.startswith("django-admin/")
    ]
    assert offenders == []


# --- LG-2 logs ----------------------------------------------------------------------------------


def test_log_lines_cannot_be_forged_with_newlines(client, caplog):
    from clinic.log_filters import EscapeControlCharacters

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login by %s", ("x\nFAKE ENTRY",), None)
    EscapeControlCharacters().filter(record)
    assert "\n" not in record.getMessage() and "FAKE ENTRY" in record.getMessage()


# --- LG-3, HD-2 production settings ------------------------------------------------------------------


def test_production_refuses_the_development_secret_key():
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup()",
        ],
        env={"DEBUG": "false", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode != 0 and "development SECRET_KEY" in result.stderr


def test_unhandled_api_error_returns_an_error_id_only(api, prescriber, care_plan, monkeypatch):
    from careplans import selectors

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail about the patient")

    monkeypatch.setattr(selectors, "care_plans_visible_to", explode)
    client = api(prescriber)
    client.raise_request_exception = False
    response = client.get(f"/api/v1/care-plans/{care_plan.public_id}/")
    assert response.status_code == 500
    assert "secret detail" not in response.content.decode() and "error_id" in response.json()
