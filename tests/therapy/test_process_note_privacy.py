"""The canary run for private process notes (SECURITY.md PN-1, PN-2; DESIGN.md).

A unique canary goes into process notes written through the API and the form. Then, as
a co-therapist on the same team, the prescriber, the care manager, a clinic admin and a
superuser, every page and API list of the project (found by walking the URLconf, so
reports and exports other apps add are covered too), the care-plan tab, the audit-events
API, the Django admin, delivered e-mails, Reminder rows, audit rows and captured logs are
searched: the canary is found nowhere. Only its author sees it.
"""

import logging
import uuid
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clinic.models import AuditEvent
from reminders.models import Reminder, ReminderKind
from tests.therapy.raw_dump import same_connection_dump
from therapy.models import ProcessNote, TherapyCourse, TherapySession

CANARY = f"CANARY-process-note-{uuid.uuid4()}"

# URL names never fetched: they log the user out or are the login/schema machinery.
SKIP = {"logout", "login", "schema", "api-docs", "api-token"}


def _named_patterns(patterns: list, namespace: tuple[str, ...] = ()) -> Iterator[tuple[str, list[str]]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin is walked through its registry below
            inner = (*namespace, entry.namespace) if entry.namespace else namespace
            yield from _named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield ":".join((*namespace, entry.name)), list(entry.pattern.regex.groupindex)


def _all_urls(*, patient, course, session, plan) -> list[str]:  # type: ignore[no-untyped-def]
    """Every named URL whose parameters we can fill with this patient's objects."""
    values = {
        "patient_id": patient.public_id,
        "patient_public_id": patient.public_id,
        "course_id": course.public_id,
        "session_id": session.public_id,
        "care_plan_public_id": plan.public_id,
    }
    details = {
        "therapysession-detail": session.public_id,
        "therapycourse-detail": course.public_id,
        "careplan-detail": plan.public_id,
        "patient-detail": patient.public_id,
    }
    urls = []
    for name, params in _named_patterns(get_resolver().url_patterns):
        if name in SKIP:
            continue
        kwargs = {}
        for param in params:
            if param == "public_id" and name in details:
                kwargs[param] = details[name]
            elif param in values:
                kwargs[param] = values[param]
            else:
                break
        else:
            url = reverse(name, kwargs=kwargs)
            urls.append(url)
            if "/api/v1/" in url and not kwargs.get("public_id"):
                urls.append(f"{url}?patient={patient.public_id}")
    for key in _report_keys():
        urls += [reverse("reports:report", kwargs={"key": key}), reverse("reports:print", kwargs={"key": key})]
    return sorted(set(urls))


def _report_keys() -> list[str]:
    try:
        from reports.catalog import report_keys
    except ImportError:
        return []
    return list(report_keys())


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist") + f"?q={CANARY[:12]}")
    for event in AuditEvent.objects.filter(object_type__startswith="therapy."):
        urls.append(reverse("admin:clinic_auditevent_change", args=[event.pk]))
    urls.append("/django-admin/therapy/processnote/")
    return urls


def _fetch_all(client: Client, urls: list[str]) -> dict[str, str]:
    bodies = {}
    for url in urls:
        response = client.get(url)
        bodies[url] = response.content.decode(errors="replace") + str(dict(response.headers))
    return bodies


def _export_reports(client: Client) -> dict[str, str]:
    """Run each report's CSV export (Celery runs eagerly here) and download it."""
    bodies = {}
    for key in _report_keys():
        response = client.post(reverse("reports:export", kwargs={"key": key}), {})
        bodies[f"export {key}"] = response.content.decode(errors="replace")
        if response.status_code == 302:
            run_page = client.get(response["Location"])
            bodies[f"run {key}"] = run_page.content.decode(errors="replace")
            csv = client.get(response["Location"].rstrip("/") + "/csv/")
            bodies[f"csv {key}"] = csv.content.decode(errors="replace")
    return bodies


@pytest.fixture
def canary_world(api, browser_client, therapist, patient, care_plan, goals, course):  # type: ignore[no-untyped-def]
    """Process notes carrying the canary, written every way a therapist can write one."""
    today = str(timezone.localdate())
    author = api(therapist)
    first = author.post(
        "/api/v1/therapy-sessions/",
        {
            "patient": str(patient.public_id),
            "modality": "CBT",
            "session_date": today,
            "summary": "Shared summary",
            "risk_level": "raised",
            "risk_note": "Passive thoughts of death; safety plan reviewed.",
            "private_note": CANARY,
            "homework": "Thought record",
            "goal_progress": [{"goal": str(goals[0].public_id), "progress": "in_progress"}],
        },
        format="json",
    ).json()
    author.post(
        "/api/v1/therapy-sessions/",
        {
            "patient": str(patient.public_id),
            "modality": "CBT",
            "session_date": today,
            "attendance": "no_show",
            "private_note": f"{CANARY} after the no-show",
        },
        format="json",
    )
    author.patch(f"/api/v1/therapy-sessions/{first['id']}/", {"private_note": f"{CANARY} (edited)"}, format="json")
    client = browser_client(therapist)
    client.post(
        reverse("therapy:session_log", kwargs={"patient_id": patient.public_id, "course_id": course.public_id}),
        {
            "session_date": today,
            "attendance": "late_cancel",
            "format": "phone",
            "duration_minutes": "0",
            "summary": "",
            "homework": "",
            "risk_level": "none",
            "risk_note": "",
            "private_note": f"{CANARY} from the form",
            "confirm_duplicate": "1",  # the third session today: past the possible-duplicate warning
        },
    )
    client.logout()
    call_command("run_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115 (deliver the e-mails)
    # The column is encrypted (PN-3), so SQL cannot search it: count the decrypted notes.
    assert sum(CANARY in note.text for note in ProcessNote.objects.all()) == 3
    assert Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).exists()
    assert Reminder.objects.filter(kind=ReminderKind.SESSION_FOLLOW_UP).exists()
    return TherapySession.objects.get(public_id=first["id"])


@pytest.mark.parametrize("who", ["co_therapist", "prescriber", "care_manager", "clinic_admin", "superuser"])
def test_process_note_canary_appears_nowhere_for_anyone_but_its_author(
    request, caplog, canary_world, who, patient, care_plan
):
    caplog.set_level(logging.DEBUG)
    session = canary_world
    user = request.getfixturevalue(who)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    urls = _all_urls(patient=patient, course=session.course, session=session, plan=care_plan)
    urls += [
        f"/api/v1/audit-events/?patient={patient.public_id}",
        "/api/v1/audit-events/",
        f"/api/v1/reminders/?patient={patient.public_id}",
    ]
    if user.is_staff:
        urls += _admin_urls()
    bodies = _fetch_all(client, urls)
    bodies |= _export_reports(client)
    assert len(bodies) > 30  # the walk really reached the project's pages
    leaks = [url for url, body in bodies.items() if CANARY in body]
    assert leaks == []
    therapy_tab = bodies[f"/patients/{patient.public_id}/therapy/"]
    on_team = who in ("co_therapist", "prescriber", "care_manager")
    assert ("Shared summary" in therapy_tab) == on_team  # the team really saw the session, others a 404
    assert CANARY not in caplog.text


def test_process_note_canary_is_nowhere_in_audit_reminders_or_mail(canary_world):
    assert AuditEvent.objects.filter(object_type="therapy.therapysession").exists()
    for event in AuditEvent.objects.all():
        assert CANARY not in str(event.changes)
    noted = AuditEvent.objects.filter(object_type="therapy.therapysession", changes__process_note="changed")
    assert noted.count() == 4  # 3 sessions logged with a note + 1 edit: only "changed" is recorded
    for reminder in Reminder.objects.all():
        assert CANARY not in reminder.detail
    assert mail.outbox, "run_reminders delivered the reminders by e-mail"
    for message in mail.outbox:
        assert CANARY not in message.subject + message.body + str(message.extra_headers)
        assert all(CANARY not in str(alt) for alt in getattr(message, "alternatives", []))


def test_only_the_author_sees_their_note(api, browser_client, therapist, canary_world, patient):
    detail = api(therapist).get(f"/api/v1/therapy-sessions/{canary_world.public_id}/").json()
    assert detail["private_note"] == f"{CANARY} (edited)"
    page = browser_client(therapist).get(reverse("therapy:tab", kwargs={"patient_id": patient.public_id}))
    assert CANARY in page.content.decode()


def test_process_notes_live_in_their_own_table_and_not_in_the_admin():
    assert ProcessNote._meta.db_table != TherapySession._meta.db_table
    session_columns = {field.name for field in TherapySession._meta.get_fields()}
    assert not {"private_note", "process_note", "note", "text"} & session_columns
    assert ProcessNote not in admin.site._registry
    assert TherapySession not in admin.site._registry
    assert TherapyCourse not in admin.site._registry


def test_process_note_str_never_shows_its_text(canary_world):
    note = ProcessNote.objects.first()
    assert CANARY not in str(note)
    assert CANARY not in repr(note)


def test_the_same_walk_as_the_author_finds_the_canary_only_on_therapy_pages(
    canary_world, therapist, patient, care_plan
):
    """Positive control: the search really detects the note, and even for its author it shows
    only where the author works with their sessions."""
    client = Client(raise_request_exception=False)
    client.force_login(therapist)
    session = canary_world
    bodies = _fetch_all(client, _all_urls(patient=patient, course=session.course, session=session, plan=care_plan))
    found = sorted(url for url, body in bodies.items() if CANARY in body)
    assert f"/patients/{patient.public_id}/therapy/" in found
    assert f"/api/v1/therapy-sessions/{session.public_id}/" in found
    assert all("therapy" in url for url in found), found


def test_a_raw_dump_of_the_database_holds_no_readable_note(canary_world, therapist):
    """PN-3: the canary notes are in the database, yet a dump of every table shows no trace of them."""
    dump = same_connection_dump()
    assert "Shared summary" in dump  # positive control: the dump really holds this test's rows
    assert CANARY not in dump and "CANARY-process-note" not in dump
    assert ProcessNote.objects.filter(author=therapist).count() == 3  # three notes, all unreadable in the dump
