"""Sign-in throttles for the login page and the API token endpoint (issue 13, SECURITY.md AU-3).

Three layers, so a stranger's failures never lock a clinician out from their own machine:

- django-axes locks an account *from one address* after 10 failures (15 minutes);
- per address: at most `AUTH_THROTTLE_IP_RATE` attempts (any username), then 429;
- per account: at most `AUTH_THROTTLE_USERNAME_FAILURES` failed attempts from every address
  together, then 429 for that account until the window passes (AU-3's ceiling, < 100/hour).
  Attempts refused by a lock or a throttle are not counted, so one machine alone can never
  push an account over it.

Counters live in the cache (Redis in production) and hold a hash of the username, never the name.
"""

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from clinic.client_ip import client_ip


def client_address(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _username_key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"auth-throttle:user:{digest}"


def _ip_key(address: str) -> str:
    return f"auth-throttle:ip:{address}"


def _window(key: str, limit: int, seconds: int, *, record: bool) -> float | None:
    """Sliding window: None while under `limit`, else the seconds until the next slot frees up."""
    now = time.time()
    history = [stamp for stamp in cache.get(key, []) if stamp > now - seconds]
    if len(history) >= limit:
        return max(1.0, history[0] + seconds - now)
    if record:
        history.append(now)
        cache.set(key, history, seconds)
    return None


def attempt_allowed(request: HttpRequest, username: str) -> float | None:
    """Check (and count) one sign-in attempt: None if it may go ahead, else seconds to wait."""
    limit, seconds = settings.AUTH_THROTTLE_USERNAME_FAILURES
    wait = _window(_username_key(username), limit, seconds, record=False) if username else None
    if wait is not None:
        return wait
    ip_limit, ip_seconds = settings.AUTH_THROTTLE_IP_RATE
    return _window(_ip_key(client_address(request)), ip_limit, ip_seconds, record=True)


def failure_record(username: str) -> None:
    """A failed attempt that was actually checked (not refused by a lock or a throttle)."""
    if username:
        limit, seconds = settings.AUTH_THROTTLE_USERNAME_FAILURES
        _window(_username_key(username), limit, seconds, record=True)


class SignInThrottle(BaseThrottle):
    """DRF face of the same counters, for `POST /api/v1/auth/token/`."""

    def allow_request(self, request: Any, view: Any) -> bool:
        username = request.data.get("username", "") if hasattr(request.data, "get") else ""
        self._wait = attempt_allowed(request._request, str(username)[:150])
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)
