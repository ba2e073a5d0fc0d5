"""The one way to write and check the audit trail (SECURITY.md AL-1..AL-3, STYLE.md rule 8).

Every event is chained: hash = SHA-256(prev_hash + canonical JSON of the row). The
chain head row is locked while appending, so concurrent writers queue up instead
of forking the chain. Call `audit_record` inside the transaction of the change it
describes: if either fails, both roll back.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models, transaction
from django.utils import timezone

from clinic.models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome, User
from clinic.request_context import current_request

GENESIS_HASH = "0" * 64
REDACTED = "changed"  # what the trail says about a private process note (DESIGN.md)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(getattr(value, "public_id", value.pk))
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of `instance`, as JSON-ready values (FKs as public ids)."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [before, after] for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _event_hash(event: AuditEvent) -> str:
    payload = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor_id,
        "actor_roles": event.actor_roles,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "outcome": event.outcome,
        "changes": event.changes,
        "request_id": event.request_id,
        "source_ip": event.source_ip,
        "user_agent": event.user_agent,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((event.prev_hash + canonical).encode()).hexdigest()


@transaction.atomic
def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    patient_id: UUID | None = None,
    outcome: str = AuditOutcome.SUCCESS,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", obj.pk))
    info = current_request.get()
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1, defaults={"last_hash": GENESIS_HASH})
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_roles=list(actor.roles) if actor is not None and actor.is_authenticated else [],
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        outcome=outcome,
        changes=json.loads(json.dumps(dict(changes or {}), default=_jsonable)),
        request_id=info.request_id,
        source_ip=info.source_ip,
        user_agent=info.user_agent[:300],
        prev_hash=head.last_hash,
    )
    # Order is carried by the prev_hash links (checked in id order), so the id
    # itself need not be hashed and the row is written once, complete.
    event.hash = _event_hash(event)
    event.save(force_insert=True)
    head.last_hash = event.hash
    head.save(update_fields=["last_hash"])
    return event


def audit_verify() -> list[int]:
    """Ids of audit rows whose hash or link does not match: empty means the chain is intact.

    Catches an edited row (its hash no longer matches), a deleted row (the next
    row's prev_hash points at nothing) and an inserted row (its link is wrong).
    """
    broken: list[int] = []
    expected_prev = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev or _event_hash(event) != event.hash:
            broken.append(event.pk)
        expected_prev = event.hash
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != expected_prev:
        broken.append(-1)  # rows were removed from the end of the chain
    return broken


def audit_denied(*, actor: User | None, object_type: str, object_id: str) -> None:
    """Record a refused access. Runs in its own transaction so the 404 that follows keeps it."""
    audit_record(
        actor=actor,
        action=AuditAction.ACCESS_DENIED,
        outcome=AuditOutcome.DENIED,
        object_type=object_type,
        object_id=object_id,
    )
