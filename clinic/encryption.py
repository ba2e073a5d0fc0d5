"""Field-level encryption at rest for private process notes (SECURITY.md PN-3; issue 12 item 7).

The keys live outside the database, in the environment (NOTE_ENCRYPTION_KEYS: comma-separated
Fernet keys, the first one is current). MultiFernet encrypts with the first key and reads with
any listed key, so rotation is: put a new key first, run `manage.py rotate_note_keys` (every
note re-encrypted with the new key), then drop the old key from the list.

`EncryptedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256, random IV) in an
ordinary text column: a database dump, a backup or a read replica holds no readable note.
Such a column cannot be searched or compared in SQL (each token differs even for equal text);
nothing needs to: notes are only read by their author, row by row.
"""

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinic.fields import BoundedTextField

_cache: dict[tuple[str, ...], MultiFernet] = {}


def note_cipher() -> MultiFernet:
    """The MultiFernet for the configured keys (cached per key list, so a changed setting applies)."""
    keys = tuple(settings.NOTE_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("NOTE_ENCRYPTION_KEYS is empty: process notes cannot be encrypted.")
    if keys not in _cache:
        try:
            _cache[keys] = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:  # never echo the key itself
            raise ImproperlyConfigured(
                "NOTE_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
            ) from exc
    return _cache[keys]


def encrypt(text: str) -> str:
    return note_cipher().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return note_cipher().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        # A note none of the configured keys opens: a dropped key or a tampered row. Fail loudly,
        # without the token, rather than show ciphertext or an empty note that could be saved over.
        raise ImproperlyConfigured("A process note cannot be decrypted with NOTE_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored token under the current (first) key."""
    return note_cipher().rotate(token.encode("ascii")).decode("ascii")


class EncryptedTextField(BoundedTextField):
    """A TextField whose value is a Fernet token in the database and plain text in Python."""

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(str(value))
