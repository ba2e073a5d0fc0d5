"""Issue 15 item 4: `manage.py backup` and `manage.py restore --verify` round-trip a seeded
database (SQLite always; PostgreSQL when DATABASE_URL points at it, as in CI).

The seeded database is backed up, restored into a fresh one (tandem_ops_restore), and the
restored database has the same rows in every table and an intact audit chain."""

import io
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careplans.models import Patient
from clinic.audit_chain import audit_seal
from clinic.backups import backup_path, backups_in, prune_backups, table_row_counts
from clinic.models import AuditEvent
from tests.medications.conftest import ensure_catalog
from tests.ops.scratch import scratch_database
from tests.therapy.factories import modality_catalog_ensure


@pytest.fixture
def seeded(settings):  # type: ignore[no-untyped-def]
    settings.DEBUG = True  # seed_demo refuses otherwise
    ensure_catalog()  # an earlier transactional test's flush empties the shipped catalogs
    modality_catalog_ensure()
    call_command("seed_demo", patients=3, stdout=io.StringIO())
    assert Patient.objects.count() == 3 and AuditEvent.objects.count() > 0


def _restore(path, *args: str) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("restore", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_backup_restore_round_trip(seeded, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.BACKUP_DIR = tmp_path
    # Seal first, as the beat does every few seconds: `restore --verify` seals what is unsealed, and
    # the chain head it would create on first sealing is not a row the backup lost.
    audit_seal()
    before = table_row_counts(connection)
    out = io.StringIO()
    call_command("backup", stdout=out)
    [(_, path)] = backups_in(tmp_path)
    assert str(path) in out.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # every patient's record is in it

    with scratch_database("tandem_ops_restore") as fresh:
        report = _restore(path, "--verify")
        assert table_row_counts(fresh) == before
        assert "Audit chain intact" in report
        assert f"careplans_patient{' ' * (len(max(before, key=len)) - len('careplans_patient'))}  3" in report
        assert Patient.objects.count() == 3

        # The target now holds data: a second restore needs --yes, then replaces it.
        with pytest.raises(CommandError, match="not empty"):
            _restore(path)
        Patient.objects.filter(pk=Patient.objects.first().pk).update(mrn="CHANGED-AFTER-BACKUP")
        _restore(path, "--yes", "--verify")
        assert table_row_counts(fresh) == before
        assert not Patient.objects.filter(mrn="CHANGED-AFTER-BACKUP").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_verify_fails_on_a_tampered_audit_trail(seeded, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.BACKUP_DIR = tmp_path
    audit_seal()  # a sealed chain, so the deleted row leaves a gap verify_audit must find
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:  # behind the application's back, as an attacker would
        # On PostgreSQL a trigger refuses DELETE (migration clinic 0007) for everyone, the table's
        # owner included; the owner can still switch it off, which is what the HMAC chain catches.
        postgres = connection.vendor == "postgresql"
        if postgres:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER clinic_audit_no_update_delete")
        try:
            cursor.execute(f"DELETE FROM {table} WHERE id = (SELECT MIN(id) FROM {table})")  # noqa: S608
        finally:
            if postgres:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER clinic_audit_no_update_delete")
    call_command("backup", stdout=io.StringIO())
    [(_, path)] = backups_in(tmp_path)
    with scratch_database("tandem_ops_restore"), pytest.raises(CommandError, match="Audit chain broken"):
        _restore(path, "--verify")


def test_restore_refuses_what_is_not_a_backup(tmp_path, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "tandem-20260101T000000Z.dump"
    bogus.write_bytes(b"not a backup")
    with django_db_blocker.unblock(), scratch_database("tandem_ops_restore"), pytest.raises(CommandError):
        _restore(bogus)


def test_retention_keeps_recent_backups_and_the_newest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    for days in (0, 1, 13, 15, 40):
        backup_path(tmp_path, "postgresql", now - timedelta(days=days)).write_bytes(b"PGDMP")
    (tmp_path / "tandem-20200101T000000Z.dump.partial").write_bytes(b"")  # not a backup: left alone
    (tmp_path / "notes.txt").write_text("left alone")
    removed = prune_backups(tmp_path, keep_days=14, now=now)
    assert sorted(path.name for path in removed) == [
        "tandem-20261022T030000Z.dump",
        "tandem-20261116T030000Z.dump",
    ]
    assert len(backups_in(tmp_path)) == 3 and len(os.listdir(tmp_path)) == 5
    # However old, the newest backup is never deleted.
    assert prune_backups(tmp_path, keep_days=1, now=now + timedelta(days=400)) != []
    assert [path.name for _, path in backups_in(tmp_path)] == ["tandem-20261201T030000Z.dump"]
