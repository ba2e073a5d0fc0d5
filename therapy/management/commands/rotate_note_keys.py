"""Re-encrypt every process note with the current key (SECURITY.md PN-3; issue 12 item 7).

Key rotation, step by step (README "Process-note encryption"):
1. put a new key first in NOTE_ENCRYPTION_KEYS, keep the old ones after it, restart;
2. run `manage.py rotate_note_keys`: each note is opened with whichever listed key sealed it and
   sealed again with the first;
3. drop the old keys from NOTE_ENCRYPTION_KEYS and restart.

Works on the stored tokens (raw SQL), in batches, each batch in one transaction with its rows
locked, so a note saved meanwhile is never overwritten by a stale copy. Prints counts only.
"""

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from clinic import encryption
from therapy.models import ProcessNote

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all private process notes with the current (first) NOTE_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        table = connection.ops.quote_name(ProcessNote._meta.db_table)
        rotated = 0
        last_id = 0
        while True:
            with transaction.atomic():
                ids = list(
                    ProcessNote.objects.select_for_update()
                    .filter(pk__gt=last_id)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:BATCH]
                )
                if not ids:
                    break
                with connection.cursor() as cursor:
                    placeholders = ", ".join(["%s"] * len(ids))
                    cursor.execute(f"SELECT id, text FROM {table} WHERE id IN ({placeholders})", ids)  # noqa: S608
                    rows = cursor.fetchall()
                    for pk, token in rows:
                        try:
                            fresh = encryption.rotate(token)
                        except InvalidToken as exc:  # none of the keys opens it
                            raise CommandError(
                                f"Process note id {pk} opens with none of NOTE_ENCRYPTION_KEYS; nothing after it "
                                "was rotated. Put the key that sealed it back in the list and run again."
                            ) from exc
                        cursor.execute(f"UPDATE {table} SET text = %s WHERE id = %s", [fresh, pk])  # noqa: S608
                        rotated += 1
                last_id = ids[-1]
        self.stdout.write(f"Re-encrypted {rotated} process notes with the current key.")
