"""The one way to write and check the audit trail (SECURITY.md AL-1..AL-3, STYLE.md rule 8).

Writing (`audit_record`) is one INSERT and takes no lock (issue 14: no clinic-wide lock on the
request path). Free text never reaches the row: `redact_changes` turns every free-text value
into a keyed hash (issue 12 item 2), here, centrally, whatever the caller passed.

Sealing (`clinic.audit_chain.audit_seal`) chains the new rows afterwards, in order: each row's
hash = HMAC-SHA256(AUDIT_HMAC_KEY, prev_hash + canonical JSON of the row and its position).
Call `audit_record` inside the transaction of the change it describes: if either fails, both
roll back.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.db import models
from django.dispatch import Signal
from django.utils import timezone

from clinic.models import AuditAction, AuditEvent, AuditOutcome, User
from clinic.request_context import current_request

GENESIS_HASH = "0" * 64
REDACTED = "changed"  # what the trail says about a private process note (DESIGN.md)
HMAC_PREFIX = "hmac:"  # a redacted free-text value: "hmac:" + 32 hex digits of its keyed hash

# Fields that look like text to the field-type rule but hold codes, units, paths or the
# trail's own bookkeeping: they keep their before -> after values.
STRUCTURED_TEXT_FIELDS = frozenset(
    {
        "unit",
        "rxnorm",
        "code",
        "diagnoses",  # ICD-10 codes
        "parameters",  # a report run's dates and filters
        "report",
        "resource_type",
        "types",
        "error",
        "error_id",
        "path",  # a held form's URL path (public ids only)
        "subject_type",
        "subject_id",
        "object_type",
        "object_id",
        "request_id",
        "user_agent",
        "prev_hash",
        "hash",
        "last_hash",
        "actor_roles",
        "password",  # only ever recorded as "changed"
        "instrument",  # a questionnaire's code (PHQ-9, GAD-7, WSAS, C-SSRS), never the answers
        "source",  # where a record came from (clinic, self_report; a safety alert's source)
    }
)
# Free text that no model field of that name shows (keys callers pass by hand).
EXTRA_FREE_TEXT_KEYS = frozenset({"homework", "note", "notes", "text", "message", "comment", "body", "reason"})
# A string this long anywhere at the top of `changes` is treated as free text, whatever its key:
# the last guard for a caller that invents a new key (ids are 36 characters).
LONG_TEXT = 64

# Sent (outside any lock) when one user opened more than AUDIT_BULK_READ_THRESHOLD distinct
# patients' records in one window; the reminders app turns it into the clinic admins' alarm.
bulk_read_alarm = Signal()  # kwargs: user_id, patients, window_start


def audit_key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def keyed_hash(value: Any) -> str:
    """HMAC-SHA256 of a value under the audit key: equal values compare equal, the text stays out."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return HMAC_PREFIX + hmac.new(audit_key(), canonical.encode(), hashlib.sha256).hexdigest()[:32]


@cache
def free_text_fields() -> frozenset[str]:
    """Every field name in the project's models that holds free text (text, JSON, or a
    character field without choices), less the structured ones. Built from the models, so a
    new text field is redacted without anyone remembering to list it."""
    names: set[str] = set(EXTRA_FREE_TEXT_KEYS)
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            is_text = isinstance(field, models.TextField | models.JSONField) or (
                isinstance(field, models.CharField) and not field.choices
            )
            if is_text:
                names.add(field.name)
    return frozenset(names - STRUCTURED_TEXT_FIELDS)


def _redact_value(value: Any) -> Any:
    if value in (None, "", [], {}) or value == REDACTED:
        return value  # empty or already redacted: says nothing about the content
    if isinstance(value, str) and value.startswith(HMAC_PREFIX) and len(value) == len(HMAC_PREFIX) + 32:
        return value
    return keyed_hash(value)


def redact_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` with every free-text value replaced by its keyed hash: a [before, after] pair
    keeps its shape (so a viewer still shows that the field changed); structured values stay."""
    text_fields = free_text_fields()
    redacted: dict[str, Any] = {}
    for key, value in changes.items():
        is_text = key in text_fields or (
            key not in STRUCTURED_TEXT_FIELDS and isinstance(value, str) and len(value) > LONG_TEXT
        )
        if not is_text:
            redacted[key] = value
        elif isinstance(value, list) and len(value) == 2:
            redacted[key] = [_redact_value(value[0]), _redact_value(value[1])]
        else:
            redacted[key] = _redact_value(value)
    return redacted


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(getattr(value, "public_id", value.pk))
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of `instance`, as JSON-ready values (FKs as public ids).

    Free text is still plain here (so `diff` sees what changed); `audit_record` redacts it."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field -> [before, after] for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """What a row's seal covers: its content, its id and its position in the chain."""
    return {
        "id": event.pk,
        "seq": event.seq,
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


def event_hash(event: AuditEvent, prev_hash: str) -> str:
    canonical = json.dumps(event_payload(event), sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(audit_key(), (prev_hash + canonical).encode(), hashlib.sha256).hexdigest()


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
    """Append one event: a single INSERT, no lock; the sealer chains it within seconds."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "public_id", obj.pk))
    info = current_request.get()
    authenticated = actor is not None and actor.is_authenticated
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if authenticated else None,
        actor_roles=list(actor.roles) if actor is not None and authenticated else [],
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=patient_id,
        outcome=outcome,
        changes=redact_changes(json.loads(json.dumps(dict(changes or {}), default=_jsonable))),
        request_id=info.request_id,
        source_ip=info.source_ip,
        user_agent=info.user_agent[:300],
    )
    event.save(force_insert=True)
    if action == AuditAction.READ and outcome == AuditOutcome.SUCCESS and authenticated and actor is not None:
        from clinic.bulk_reads import bulk_reads_count

        bulk_reads_count(actor, [patient_id] if patient_id else changes_patients(event.changes))
    return event


def changes_patients(changes: Mapping[str, Any]) -> list[str]:
    patients = changes.get("patients")
    return [str(p) for p in patients] if isinstance(patients, list) else []


def audit_read(*, actor: User, patient_ids: Iterable[UUID | str], object_type: str, object_id: str = "") -> None:
    """One read event for a request that showed clinical content of these patients: with one
    patient it names them in `patient_id` (found by `?patient=`), with several in `patients`."""
    distinct = sorted({str(p) for p in patient_ids})
    if not distinct:
        return
    if len(distinct) == 1:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            patient_id=UUID(distinct[0]),
            object_type=object_type,
            object_id=object_id,
        )
    else:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type=object_type,
            object_id=object_id,
            changes={"patients": distinct},
        )


def audit_verify() -> list[int]:
    """Seal what is ready, then check the chain: ids of broken rows, empty if intact (see audit_chain)."""
    from clinic.audit_chain import audit_seal, chain_verify

    audit_seal()
    return chain_verify()


def audit_denied(*, actor: User | None, object_type: str, object_id: str) -> None:
    """Record a refused access. Runs in its own statement so the 404 that follows keeps it."""
    audit_record(
        actor=actor,
        action=AuditAction.ACCESS_DENIED,
        outcome=AuditOutcome.DENIED,
        object_type=object_type,
        object_id=object_id,
    )
