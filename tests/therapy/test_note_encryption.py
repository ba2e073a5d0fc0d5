"""Process notes are encrypted at rest and keys rotate (SECURITY.md PN-3; issue 12 item 7)."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tests.therapy.raw_dump import pg_dump_text, same_connection_dump
from therapy import services
from therapy.models import ProcessNote

ROOT = Path(__file__).resolve().parents[2]
NOTE = "Felt the old anger at her father again; transference to explore."


def _stored(note: ProcessNote) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM therapy_processnote WHERE id = %s", [note.pk])
        return cursor.fetchone()[0]


def _write_note(course, therapist, text: str = NOTE) -> ProcessNote:  # type: ignore[no-untyped-def]
    session = services.session_log(course=course, actor=therapist, session_date=timezone.localdate(), private_note=text)
    return ProcessNote.objects.get(session=session, author=therapist)


def test_the_column_holds_a_token_and_the_author_reads_plain_text(course, therapist):
    note = _write_note(course, therapist)
    stored = _stored(note)
    assert NOTE not in stored and stored.startswith("gAAAAA")
    assert ProcessNote.objects.get(pk=note.pk).text == NOTE


def test_equal_notes_give_different_tokens(course, therapist, patient):  # random IV: no frequency analysis
    first = _write_note(course, therapist)
    second = services.session_log(
        course=course, actor=therapist, session_date=timezone.localdate(), attendance="no_show", private_note=NOTE
    )
    other = ProcessNote.objects.get(session=second)
    assert _stored(first) != _stored(other)


def test_rotation_lets_the_old_key_be_dropped(settings, course, therapist):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTE_ENCRYPTION_KEYS = [old]
    note = _write_note(course, therapist)
    sealed_with_old = _stored(note)

    settings.NOTE_ENCRYPTION_KEYS = [new]  # dropping the old key before rotating locks the note out
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        ProcessNote.objects.get(pk=note.pk)

    settings.NOTE_ENCRYPTION_KEYS = [new, old]  # step 1: new key first, old key kept
    out = _call("rotate_note_keys")
    assert "Re-encrypted 1 process notes" in out and NOTE not in out

    settings.NOTE_ENCRYPTION_KEYS = [new]  # step 3: old key gone, the note still reads
    assert ProcessNote.objects.get(pk=note.pk).text == NOTE
    rotated = _stored(note)
    assert rotated != sealed_with_old and Fernet(new).decrypt(rotated.encode()).decode() == NOTE


def test_rotation_stops_with_a_clear_error_when_a_key_is_missing(settings, course, therapist):
    settings.NOTE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    _write_note(course, therapist)
    settings.NOTE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="opens with none of NOTE_ENCRYPTION_KEYS") as error:
        _call("rotate_note_keys")
    assert NOTE not in str(error.value)


def test_the_data_migration_encrypts_existing_plain_notes_and_reverses(course, therapist):
    migration = importlib.import_module("therapy.migrations.0004_encrypt_existing_process_notes")
    note = _write_note(course, therapist)
    with connection.cursor() as cursor:  # a note as it was stored before PN-3
        cursor.execute("UPDATE therapy_processnote SET text = %s WHERE id = %s", [NOTE, note.pk])

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.encrypt_notes(None, editor)
    stored = _stored(note)
    assert NOTE not in stored and ProcessNote.objects.get(pk=note.pk).text == NOTE
    migration.encrypt_notes(None, editor)  # re-running leaves encrypted notes alone
    assert _stored(note) == stored
    migration.decrypt_notes(None, editor)
    assert _stored(note) == NOTE


def test_production_refuses_to_start_without_note_keys_or_with_the_dev_key():
    # A valid AUDIT_HMAC_KEY (production refuses to start without one too), so what is refused is the note keys.
    base = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "AUDIT_HMAC_KEY": "test-only-" + "a" * 40,
        "PATH": "/usr/bin:/bin",
    }
    script = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup()"
    from clinic.settings import DEV_NOTE_ENCRYPTION_KEY

    for extra in ({}, {"NOTE_ENCRYPTION_KEYS": DEV_NOTE_ENCRYPTION_KEY}, {"NOTE_ENCRYPTION_KEYS": "not-a-key"}):
        result = subprocess.run(
            [sys.executable, "-c", script], env=base | extra, capture_output=True, text=True, cwd=ROOT, check=False
        )
        assert result.returncode != 0 and "NOTE_ENCRYPTION_KEYS" in result.stderr
    good = {"NOTE_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=base | good, capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_same_connection_dump_shows_no_note(course, therapist):
    _write_note(course, therapist)
    dump = same_connection_dump()
    assert NOTE not in dump and "transference" not in dump


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_pg_dump_holds_no_readable_note(course, therapist):
    _write_note(course, therapist)
    dump = pg_dump_text()
    assert "therapy_processnote" in dump  # positive control: the table was dumped
    assert NOTE not in dump and "transference" not in dump


def _call(name: str) -> str:
    import io

    out = io.StringIO()
    call_command(name, stdout=out)
    return out.getvalue()
