"""The data migration that redacts the free text already in the trail and re-seals the chain
(issue 12 item 2: "existing rows are redacted by a migration that re-seals the chain and records
the reseal as an event with the old head")."""

import importlib
import json

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from clinic.audit import keyed_hash
from clinic.audit_chain import chain_verify
from clinic.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db
migration = importlib.import_module("clinic.migrations.0006_audit_redact_free_text_and_reseal")
OLD_HEAD = "a" * 64


def _old_row(n: int, changes: dict) -> None:  # type: ignore[type-arg]
    """A row as main wrote it before this branch: plain text in `changes`, a plain SHA-256 chain."""
    AuditEvent(
        occurred_at=timezone.now(),
        action="update",
        object_type="careplans.careplan",
        object_id=f"plan-{n}",
        changes=changes,
        prev_hash=f"{n:064d}",
        hash=f"{n + 1:064d}",
    ).save(force_insert=True)


def _historical_apps():  # type: ignore[no-untyped-def]
    """The models as migration 0006 sees them (historical: no append-only manager)."""
    return MigrationLoader(connection).project_state(("clinic", "0006_audit_redact_free_text_and_reseal")).apps


def _run_migration() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # migration 0006 runs before the trigger of 0007 exists
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE clinic_auditevent DISABLE TRIGGER USER")
        migration.redact_and_reseal(_historical_apps(), None)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE clinic_auditevent ENABLE TRIGGER USER")


def test_old_rows_lose_their_text_and_the_chain_is_resealed_with_the_old_head_on_record():
    _old_row(1, {"summary": ["Lives with partner", "Moved out after an argument"], "status": ["draft", "active"]})
    _old_row(2, {"given_name": [None, "Ada"], "family_name": [None, "Lovelace"], "birth_date": [None, "1990-01-02"]})
    _old_row(3, {"body": [None, "Please call her sister"], "recipient": [None, "team"]})
    AuditChainHead.objects.update_or_create(id=1, defaults={"last_hash": OLD_HEAD})

    _run_migration()

    rows = list(AuditEvent.objects.order_by("id"))
    text = json.dumps([row.changes for row in rows])
    for secret in ("partner", "argument", "Ada", "Lovelace", "sister"):
        assert secret not in text
    assert rows[0].changes == {
        "summary": [keyed_hash("Lives with partner"), keyed_hash("Moved out after an argument")],
        "status": ["draft", "active"],  # structured: kept
    }
    assert rows[1].changes["birth_date"] == [None, "1990-01-02"]
    reseal = rows[-1]
    assert reseal.action == "reseal" and reseal.changes["old_head"] == OLD_HEAD and reseal.changes["rows"] == 3
    assert [row.seq for row in rows] == [1, 2, 3, 4]
    assert chain_verify() == []
    assert AuditChainHead.objects.get().last_hash == reseal.hash


def test_an_empty_trail_needs_no_reseal():
    migration.redact_and_reseal(_historical_apps(), None)
    assert not AuditEvent.objects.exists()
