"""Link tokens and the counters that rate-limit links (SECURITY.md: secrets, never stored in clear).

A token is 32 random bytes (`secrets.token_urlsafe`), so a plain SHA-256 is a safe lookup key:
there is nothing to brute-force offline that is easier than guessing the token itself.
"""

import hashlib
import secrets
import time

from django.core.cache import cache

TOKEN_BYTES = 32


def token_new() -> tuple[str, str]:
    """(the token to put in the URL, the hash to store)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def window_hit(key: str, limit: int, seconds: int) -> bool:
    """Count one event in a sliding window; False when `limit` events already happened in it."""
    now = time.time()
    history = [stamp for stamp in cache.get(key, []) if stamp > now - seconds]
    if len(history) >= limit:
        return False
    history.append(now)
    cache.set(key, history, seconds)
    return True
