"""Who is asking, from where: set once per request, read by the audit writer.

A context variable rather than a thread-local so it is correct under ASGI too.
It holds request metadata only, never a "current patient" (SECURITY.md AC-7).
"""

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    request_id: str = ""
    source_ip: str | None = None
    user_agent: str = ""


current_request: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "current_request",
    default=RequestInfo(),  # noqa: B039  (frozen dataclass: immutable)
)
