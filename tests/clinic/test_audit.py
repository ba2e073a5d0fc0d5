"""The audit trail: written with every change, append-only, tamper-evident (SECURITY.md AL-1..AL-3)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careplans import services
from careplans.models import CarePlan
from clinic.audit import audit_record, audit_verify
from clinic.models import AuditEvent

pytestmark = pytest.mark.django_db


def _write_a_few(care_plan, prescriber):  # type: ignore[no-untyped-def]
    plan = services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="one")
    services.care_plan_update(care_plan=plan, actor=prescriber, version=2, summary="two")
    services.goal_create(care_plan=plan, actor=prescriber, domain="symptom", description="PHQ-9 < 5")


def test_each_write_leaves_one_event_with_before_and_after(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["update", "update", "create"]
    assert events[1].changes == {"summary": ["one", "two"]}
    assert events[0].actor == prescriber and events[0].actor_roles == ["prescriber"]
    assert events[0].patient_id == care_plan.patient.public_id


def test_intact_chain_verifies(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    assert audit_verify() == []
    call_command("verify_audit")


def test_a_row_edited_behind_the_apps_back_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    victim = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_auditevent SET changes = %s WHERE id = %s", ['{"summary": ["x", "y"]}', victim.pk]
        )
    assert audit_verify() == [victim.pk]
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit")


def test_a_deleted_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    first, second, third = AuditEvent.objects.order_by("id")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_auditevent WHERE id = %s", [second.pk])
    assert audit_verify() == [third.pk]


def test_a_deleted_last_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    last = AuditEvent.objects.order_by("id").last()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_auditevent WHERE id = %s", [last.pk])
    assert audit_verify() == [-1]


def test_an_inserted_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    forged = AuditEvent.objects.order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clinic_auditevent (occurred_at, actor_roles, action, object_type, object_id, outcome, "
            "changes, request_id, user_agent, prev_hash, hash) SELECT occurred_at, actor_roles, action, object_type, "
            "object_id, outcome, changes, request_id, user_agent, prev_hash, %s FROM clinic_auditevent WHERE id = %s",
            ["f" * 64, forged.pk],
        )
    assert audit_verify() != []


def test_the_orm_refuses_to_change_or_delete_audit_rows(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    event = AuditEvent.objects.first()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="read")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        event.delete()
    event.action = "read"
    with pytest.raises(PermissionError):
        event.save()


def test_if_the_audit_write_fails_the_change_is_rolled_back(care_plan, prescriber, monkeypatch):
    # Fault injection (AL-3): the audit store refuses the row.
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(AuditEvent, "save", refuse)
    with pytest.raises(RuntimeError):
        services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="lost")
    assert CarePlan.objects.get(pk=care_plan.pk).summary == "Shared formulation."
    assert CarePlan.objects.get(pk=care_plan.pk).version == 1


def test_chart_open_is_audited_as_a_read(client, prescriber, patient):
    client.force_login(prescriber)
    client.get(f"/patients/{patient.public_id}/")
    read = AuditEvent.objects.get(action="read")
    assert read.patient_id == patient.public_id and read.actor == prescriber


def test_denied_chart_open_is_audited(client, outsider, patient):
    client.force_login(outsider)
    assert client.get(f"/patients/{patient.public_id}/").status_code == 404
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.actor == outsider and denied.object_id == str(patient.public_id)


def test_audit_rows_hold_ids_not_names(care_plan, prescriber):
    patient = care_plan.patient
    services.patient_update(patient=patient, actor=prescriber, phone="555-0100")
    event = AuditEvent.objects.get(action="update")
    assert patient.family_name not in event.object_id
    assert event.object_id == str(patient.public_id)


def test_events_chain_in_order(care_plan, prescriber):
    for _ in range(5):
        audit_record(actor=prescriber, action="read", obj=care_plan)
    events = list(AuditEvent.objects.order_by("id"))
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
