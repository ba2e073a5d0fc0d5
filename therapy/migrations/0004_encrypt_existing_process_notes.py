"""Encrypt the process notes written before PN-3 (SECURITY.md PN-3; issue 12 item 7).

Raw SQL on the table, not the model: the model's field would decrypt on read. A value that the
configured keys already open is left alone, so the migration can be re-run after a partial run.
Reversing decrypts the notes back to plain text (to migrate below PN-3 only).
"""

from cryptography.fernet import InvalidToken
from django.db import migrations

from clinic import encryption

TABLE = "therapy_processnote"


def _rows(schema_editor):  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, text FROM {TABLE}")  # noqa: S608 (constant table name)
        return cursor.fetchall()


def _write(schema_editor, pk: int, value: str) -> None:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET text = %s WHERE id = %s", [value, pk])  # noqa: S608


def _opens(value: str) -> bool:
    try:
        encryption.note_cipher().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def encrypt_notes(apps, schema_editor):  # type: ignore[no-untyped-def]
    for pk, text in _rows(schema_editor):
        if text is not None and not _opens(text):
            _write(schema_editor, pk, encryption.encrypt(text))


def decrypt_notes(apps, schema_editor):  # type: ignore[no-untyped-def]
    for pk, text in _rows(schema_editor):
        if text is not None and _opens(text):
            _write(schema_editor, pk, encryption.decrypt(text))


class Migration(migrations.Migration):
    dependencies = [("therapy", "0003_encrypted_process_notes_bounded_summary")]

    operations = [migrations.RunPython(encrypt_notes, decrypt_notes)]
