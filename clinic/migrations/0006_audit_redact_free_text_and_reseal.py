"""Redact the free text already in the audit trail and re-seal the chain (issue 12 item 2).

Every row's `changes` goes through the same `redact_changes` as new events; then the whole
chain is sealed again, in id order, with the HMAC key (issue 12 item 3). The reseal itself is
an event at the end of the chain carrying the old head's hash, so the break is on the record.
Irreversible by nature: the text is gone (reversing leaves the redacted, resealed rows).
"""

from django.db import migrations
from django.utils import timezone


def redact_and_reseal(apps, schema_editor):  # type: ignore[no-untyped-def]
    from clinic.audit import GENESIS_HASH, event_hash, redact_changes

    AuditEvent = apps.get_model("clinic", "AuditEvent")
    AuditChainHead = apps.get_model("clinic", "AuditChainHead")
    total = AuditEvent.objects.count()
    if total == 0:
        return
    head = AuditChainHead.objects.filter(id=1).first()
    AuditEvent.objects.create(
        occurred_at=timezone.now(),
        action="reseal",
        object_type="clinic.auditchainhead",
        object_id="1",
        changes={"old_head": head.last_hash if head else None, "rows": total, "cause": "free-text redaction"},
    )
    prev, seq = GENESIS_HASH, 0
    for row in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        row.changes = redact_changes(row.changes or {})
        row.seq = seq
        row.hash = event_hash(row, prev)
        AuditEvent.objects.filter(pk=row.pk).update(changes=row.changes, seq=seq, prev_hash=prev, hash=row.hash)
        prev = row.hash
    AuditChainHead.objects.update_or_create(id=1, defaults={"last_hash": prev, "last_seq": seq})


class Migration(migrations.Migration):
    dependencies = [("clinic", "0005_audit_unsealed_append_and_seal")]

    operations = [migrations.RunPython(redact_and_reseal, migrations.RunPython.noop)]
