"""The audit trail: written with every change, free of clinical text, append-only, tamper-evident
(SECURITY.md AL-1..AL-3; issue 12 items 2 and 3).

Each tamper is done by raw SQL as a database owner would: on PostgreSQL the append-only trigger
is switched off first (`ALTER TABLE ... DISABLE TRIGGER USER`, which only the owner may do), so
what is tested is that the HMAC chain and the anchor still catch it.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careplans import services
from careplans.models import CarePlan
from clinic.audit import audit_record, audit_verify, event_payload, keyed_hash
from clinic.audit_chain import ANCHOR_MISMATCH, END_OF_CHAIN, audit_anchor, audit_seal, chain_verify, latest_anchor
from clinic.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _write_a_few(care_plan, prescriber):  # type: ignore[no-untyped-def]
    plan = services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="one")
    services.care_plan_update(care_plan=plan, actor=prescriber, version=2, summary="two")
    services.goal_create(care_plan=plan, actor=prescriber, domain="symptom", description="PHQ-9 < 5")
    audit_seal()


def tamper(sql: str, params: list | None = None) -> None:  # type: ignore[type-arg]
    """Run `sql` behind the application's back, as the table's owner."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks must fire before the table may be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE clinic_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE clinic_auditevent ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def anchor_file(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchors.jsonl")
    return tmp_path / "anchors.jsonl"


# --- what a row says ----------------------------------------------------------------------


def test_each_write_leaves_one_event_with_free_text_as_a_keyed_hash(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["update", "update", "create"]
    # The summary changed: the trail says so and compares values, never shows them.
    assert events[1].changes == {"summary": [keyed_hash("one"), keyed_hash("two")]}
    assert events[0].changes["summary"][1] == events[1].changes["summary"][0]  # equal values, equal hashes
    assert "one" not in json.dumps(events[0].changes) and "PHQ-9" not in json.dumps(events[2].changes)
    # Structured values keep before -> after.
    assert events[2].changes["domain"] == [None, "symptom"] and events[2].changes["status"][0] is None
    assert events[0].actor == prescriber and events[0].actor_roles == ["prescriber"]
    assert events[0].patient_id == care_plan.patient.public_id


def test_a_caller_passing_free_text_by_hand_still_gets_it_redacted(care_plan, prescriber):
    event = audit_record(
        actor=prescriber,
        action="update",
        obj=care_plan,
        changes={
            "reason": [None, "Patient disclosed a relapse"],  # a free-text field name
            "invented_key": "a long sentence a caller typed into a key nobody registered, about the patient",
            "dose": ["100", "150"],
            "status": ["active", "paused"],
        },
    )
    text = json.dumps(event.changes)
    assert "relapse" not in text and "sentence" not in text
    assert event.changes["reason"] == [None, keyed_hash("Patient disclosed a relapse")]
    assert event.changes["dose"] == ["100", "150"] and event.changes["status"] == ["active", "paused"]


def test_audit_rows_hold_ids_not_names(care_plan, prescriber):
    patient = care_plan.patient
    services.patient_update(patient=patient, actor=prescriber, phone="555-0100", family_name="Renamed")
    event = AuditEvent.objects.get(action="update")
    assert event.object_id == str(patient.public_id)
    text = json.dumps(event.changes)
    assert "Renamed" not in text and "555-0100" not in text
    assert set(event.changes) == {"family_name", "phone"}


def test_the_keyed_hash_depends_on_the_key(settings):
    before = keyed_hash("one")
    settings.AUDIT_HMAC_KEY = "another-key-" + "x" * 40
    assert keyed_hash("one") != before
    assert before != "hmac:" + hashlib.sha256(b'"one"').hexdigest()[:32]  # not a plain hash


# --- the chain ------------------------------------------------------------------------------


def test_intact_chain_verifies(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    assert audit_verify() == []
    call_command("verify_audit")


def test_a_request_appends_unsealed_and_the_sealer_chains_in_order(care_plan, prescriber, django_assert_num_queries):
    with django_assert_num_queries(1):  # one INSERT: no chain-head row read or locked
        audit_record(actor=prescriber, action="read", obj=care_plan)
    for _ in range(4):
        audit_record(actor=prescriber, action="read", obj=care_plan)
    assert AuditEvent.objects.filter(hash__isnull=True).count() == 5
    assert audit_seal() == 5
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, events[-1].hash)
    assert audit_seal() == 0  # nothing new: a second run seals nothing


def test_the_sealer_leaves_rows_younger_than_the_grace(care_plan, prescriber):
    audit_record(actor=prescriber, action="read", obj=care_plan)
    assert audit_seal(grace_seconds=60) == 0  # may still be in flight: not sealed past
    assert audit_seal(grace_seconds=0) == 1


def test_a_row_edited_behind_the_apps_back_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    victim = AuditEvent.objects.order_by("id")[1]
    tamper("UPDATE clinic_auditevent SET changes = %s WHERE id = %s", ['{"summary": ["x", "y"]}', victim.pk])
    assert audit_verify() == [victim.pk]
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit")


def test_a_deleted_middle_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    first, second, third = AuditEvent.objects.order_by("id")
    tamper("DELETE FROM clinic_auditevent WHERE id = %s", [second.pk])
    assert audit_verify() == [third.pk]


def test_a_deleted_last_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    last = AuditEvent.objects.order_by("id").last()
    tamper("DELETE FROM clinic_auditevent WHERE id = %s", [last.pk])
    assert audit_verify() == [END_OF_CHAIN]


def test_the_tail_deleted_and_the_head_reset_is_caught_by_the_anchor(care_plan, prescriber, anchor_file):
    _write_a_few(care_plan, prescriber)
    audit_anchor()
    first, second, third = AuditEvent.objects.order_by("id")
    tamper("DELETE FROM clinic_auditevent WHERE id IN (%s, %s)", [second.pk, third.pk])
    tamper("UPDATE clinic_auditchainhead SET last_hash = %s, last_seq = 1", [first.hash])
    # Inside the database the shortened chain is consistent ...
    assert AuditChainHead.objects.get().last_hash == first.hash
    # ... but the anchor written outside it names a row that is gone.
    assert audit_verify() == [ANCHOR_MISMATCH]
    with pytest.raises(CommandError, match="the latest anchor"):
        call_command("verify_audit")


def test_every_hash_recomputed_without_the_key_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    events = list(AuditEvent.objects.order_by("seq"))
    prev = "0" * 64
    for event in events:  # what a writer without AUDIT_HMAC_KEY can do: plain SHA-256 over the same data
        canonical = json.dumps(event_payload(event), sort_keys=True, separators=(",", ":"), default=str)
        forged = hashlib.sha256((prev + canonical).encode()).hexdigest()
        tamper("UPDATE clinic_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, forged, event.pk])
        prev = forged
    tamper("UPDATE clinic_auditchainhead SET last_hash = %s", [prev])
    assert audit_verify() == [event.pk for event in events]


def test_an_inserted_row_is_detected(care_plan, prescriber):
    _write_a_few(care_plan, prescriber)
    copied = AuditEvent.objects.order_by("id").first()
    tamper(
        "INSERT INTO clinic_auditevent (occurred_at, actor_roles, action, object_type, object_id, outcome, "
        "changes, request_id, user_agent, seq, prev_hash, hash) SELECT occurred_at, actor_roles, action, object_type, "
        "object_id, outcome, changes, request_id, user_agent, 4, %s, %s FROM clinic_auditevent WHERE id = %s",
        [AuditChainHead.objects.get().last_hash, "f" * 64, copied.pk],
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
    assert AuditEvent.objects.filter(pk=event.pk).seal(seq=99, prev_hash="0" * 64, hash="e" * 64) == 0  # sealed once


def test_if_the_audit_write_fails_the_change_is_rolled_back(care_plan, prescriber, monkeypatch):
    # Fault injection (AL-3): the audit store refuses the row.
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(AuditEvent, "save", refuse)
    with pytest.raises(RuntimeError):
        services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="lost")
    assert CarePlan.objects.get(pk=care_plan.pk).summary == "Shared formulation."
    assert CarePlan.objects.get(pk=care_plan.pk).version == 1


# --- the anchor outside the database -----------------------------------------------------------


def test_the_anchor_is_a_line_outside_the_database_a_log_line_and_a_mail(
    care_plan, prescriber, clinic_admin, anchor_file, caplog
):
    _write_a_few(care_plan, prescriber)
    caplog.set_level("INFO", logger="tandem.audit")
    call_command("audit_anchor")
    line = json.loads(anchor_file.read_text().splitlines()[-1])
    head = AuditChainHead.objects.get()
    assert (line["seq"], line["hash"]) == (head.last_seq, head.last_hash) == (3, AuditEvent.objects.last().hash)
    assert head.last_hash in caplog.text
    (sent,) = mail.outbox
    assert sent.to == [clinic_admin.email] and head.last_hash in sent.body
    patient = care_plan.patient
    assert patient.family_name not in sent.body and str(patient.public_id) not in sent.body
    assert latest_anchor().seq == 3  # type: ignore[union-attr]
    services.goal_create(care_plan=care_plan, actor=prescriber, domain="symptom", description="later")
    call_command("audit_anchor")
    assert len(anchor_file.read_text().splitlines()) == 2 and latest_anchor().seq == 4  # type: ignore[union-attr]
    assert chain_verify() == []


def test_production_refuses_to_start_without_the_audit_key():
    def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup()",
            ],
            env={
                "DEBUG": "false",
                "SECRET_KEY": "test-only-" + "x" * 50,
                "NOTE_ENCRYPTION_KEYS": "ZmVybmV0LXRlc3Qtb25seS1rZXktMDEyMzQ1Njc4OTA=",  # a valid Fernet key: only the audit key is missing
                "PATH": "/usr/bin:/bin",
                **env,
            },
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )

    refused = start({})
    assert refused.returncode != 0 and "AUDIT_HMAC_KEY" in refused.stderr
    assert start({"AUDIT_HMAC_KEY": "dev-only-audit-hmac-key-never-use-in-production"}).returncode != 0
    assert start({"AUDIT_HMAC_KEY": "k" * 40}).returncode == 0


# --- reads through the pages ------------------------------------------------------------------


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


def test_the_audit_api_shows_no_free_text(api, clinic_admin, care_plan, prescriber):
    services.care_plan_update(care_plan=care_plan, actor=prescriber, version=1, summary="Sensitive formulation")
    response = api(clinic_admin).get(f"/api/v1/audit-events/?patient={care_plan.patient.public_id}")
    assert response.status_code == 200
    body = json.dumps(response.json())
    assert "Sensitive formulation" not in body and keyed_hash("Sensitive formulation") in body


# --- the database itself refuses (PostgreSQL) ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE clinic_auditevent SET action = 'read'",
        "UPDATE clinic_auditevent SET changes = '{}'::jsonb WHERE hash IS NULL",  # unsealed content: refused too
        "DELETE FROM clinic_auditevent",
        "TRUNCATE clinic_auditevent",
    ],
)
def test_postgres_refuses_update_delete_and_truncate(care_plan, prescriber, statement):
    from django.db import DatabaseError, transaction

    _write_a_few(care_plan, prescriber)
    audit_record(actor=prescriber, action="read", obj=care_plan)  # one unsealed row too
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL tandem.audit_allow_truncate = 'off'")  # the app's sessions never set it
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # else TRUNCATE stops at the pending FK checks first
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 4 and audit_verify() == []


@pytest.mark.postgres
def test_postgres_allows_only_the_one_time_seal(care_plan, prescriber):
    from django.db import DatabaseError, transaction

    event = audit_record(actor=prescriber, action="read", obj=care_plan)
    audit_seal()
    # Re-sealing a sealed row is an UPDATE like any other.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_auditevent SET hash = %s WHERE id = %s", ["e" * 64, event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        other = audit_record(actor=prescriber, action="read", obj=care_plan)
        with connection.cursor() as cursor:  # a "seal" that also changes the content
            cursor.execute(
                "UPDATE clinic_auditevent SET seq = 2, prev_hash = '', hash = %s, action = 'update' WHERE id = %s",
                ["d" * 64, other.pk],
            )
    assert audit_verify() == []
