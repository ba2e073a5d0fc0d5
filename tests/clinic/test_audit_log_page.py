"""The clinic admin's audit log page (issue 16 item 8): filters, names, paging, CSV, no clinical text."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditEvent
from tests.factories import UserFactory

FREE_TEXT = "passive thoughts of death"


@pytest.fixture
def events(patient, prescriber, clinic_admin, care_plan):  # type: ignore[no-untyped-def]
    """A care-plan edit with free text in `changes`, a role grant, a care-team add."""
    audit_record(
        actor=prescriber,
        action="update",
        obj=care_plan,
        patient_id=patient.public_id,
        changes={"summary": ["old " + FREE_TEXT, "new " + FREE_TEXT], "status": ["draft", "active"]},
    )
    audit_record(
        actor=clinic_admin,
        action="update",
        obj=prescriber,
        changes={"is_therapist": [False, True]},
    )
    audit_record(
        actor=clinic_admin,
        action="create",
        object_type="careplans.careteammember",
        object_id="x",
        patient_id=patient.public_id,
        changes={"user": [None, str(prescriber.public_id)], "role": [None, "prescriber"]},
    )


def _get(client, viewer, **params):  # type: ignore[no-untyped-def]
    client.force_login(viewer)
    return client.get("/audit/", params)


def test_admin_sees_names_not_uuids_and_no_free_text(client, clinic_admin, events, patient, prescriber):
    response = _get(client, clinic_admin)
    assert response.status_code == 200
    body = response.content.decode()
    assert patient.display_name in body and patient.mrn in body and str(prescriber) in body
    assert FREE_TEXT not in body
    assert "<code>summary</code>: changed" in body
    assert "draft → active" in body and "False → True" in body
    # The care-team row names the member, not its id.
    assert f"– → {prescriber}" in body


def test_clinicians_may_not(client, prescriber):
    assert _get(client, prescriber).status_code == 403


def test_filters_by_patient_user_action_and_date(client, clinic_admin, events, patient, prescriber):
    by_patient = _get(client, clinic_admin, patient=patient.mrn).context["page"].paginator.count
    assert by_patient == AuditEvent.objects.filter(patient_id=patient.public_id).count() >= 2
    assert _get(client, clinic_admin, patient=str(patient.public_id)).context["page"].paginator.count == by_patient
    unknown = _get(client, clinic_admin, patient="NO-SUCH-MRN")
    assert unknown.context["page"].paginator.count == 0 and "No patient with that MRN" in unknown.content.decode()
    by_user = _get(client, clinic_admin, user=str(prescriber.public_id)).context["page"]
    assert {row.actor_id for row in by_user.object_list} == {prescriber.pk}
    access = _get(client, clinic_admin, action="access_change").context["page"]
    assert {e.object_type for e in access.object_list} == {"clinic.user", "careplans.careteammember"}
    assert _get(client, clinic_admin, action="update").context["page"].paginator.count >= 2
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert _get(client, clinic_admin, date_from=tomorrow).context["page"].paginator.count == 0
    today = timezone.localdate().isoformat()
    assert _get(client, clinic_admin, date_from=today, date_to=today).context["page"].paginator.count >= 3
    backwards = _get(client, clinic_admin, date_from=tomorrow, date_to=today)
    assert "The end date is before the start date." in backwards.content.decode()


def test_break_glass_filter(client, api, clinic_admin, outsider, patient):
    api(outsider).post(f"/api/v1/patients/{patient.public_id}/break-glass/", {"reason": "ED"}, format="json")
    rows = _get(client, clinic_admin, action="break_glass").context["rows"]
    assert [row.event.object_type for row in rows] == ["careplans.breakglassgrant"]
    assert rows[0].actor_name == str(outsider) and rows[0].patient_mrn == patient.mrn


def test_paginated_with_pinned_queries(client, clinic_admin, events, django_assert_max_num_queries):
    for n in range(60):
        UserFactory(username=f"bulk{n}")  # no audit rows: write them directly
    for _ in range(70):
        audit_record(actor=clinic_admin, action="read", object_type="x", object_id="y")
    client.force_login(clinic_admin)
    client.get("/audit/")  # warm the session
    with django_assert_max_num_queries(12):
        first = client.get("/audit/")
    page = first.context["page"]
    assert len(page.object_list) == 50 and page.has_next()
    second = client.get("/audit/", {"page": 2})
    assert second.context["page"].number == 2


def test_csv_export_is_audited_formula_safe_with_ids_and_names(client, clinic_admin, events, patient, prescriber):
    prescriber.first_name = "=HYPERLINK(1)"
    prescriber.save()
    response = _get(client, clinic_admin, format="csv", patient=patient.mrn)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and all(row["patient_id"] == str(patient.public_id) for row in rows)
    assert all(row["mrn"] == patient.mrn for row in rows)
    plan_row = next(row for row in rows if row["actor_id"] == str(prescriber.public_id))
    assert plan_row["actor"].startswith("'=")  # a formula is never a formula in the sheet
    assert FREE_TEXT not in response.content.decode()
    assert "summary: changed" in plan_row["changed_fields"]
    export = AuditEvent.objects.filter(action="export", object_type="clinic.auditevent").get()
    assert export.actor == clinic_admin and export.changes == {"patient": patient.mrn}
