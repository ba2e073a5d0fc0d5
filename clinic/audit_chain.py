"""Sealing, verifying and anchoring the audit chain (SECURITY.md AL-2; issue 12 item 3, issue 14).

Requests insert events unsealed. The sealer (Celery beat every few seconds, `verify_audit`,
`audit_anchor`) takes the chain head's lock (the only lock, never on a request) and gives
each committed unsealed row, in id order, the next `seq`, the previous hash and its HMAC.

Why a grace period: on PostgreSQL ids are handed out at INSERT but rows become visible at
COMMIT, so id 11 may be visible while id 10 is still in flight. Sealing only rows older than
AUDIT_SEAL_GRACE_SECONDS keeps the chain in id order for every ordinary request; a row whose
transaction ran longer simply gets a later `seq` when it commits (the chain orders by `seq`,
so it is still one unbroken line). A rolled-back insert leaves an id gap, which never matters:
`seq` is gapless, ids need not be.

The anchor: the head (seq, hash) appended to AUDIT_ANCHOR_FILE (outside the database), logged
and e-mailed to the clinic admins. A writer who deletes the tail and resets the head in the
database cannot reach the anchor: `chain_verify` finds the anchored row missing or changed.
"""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit import GENESIS_HASH, event_hash
from clinic.models import AuditChainHead, AuditEvent, User

logger = logging.getLogger("tandem.audit")

# Markers in chain_verify's answer besides row ids.
END_OF_CHAIN = -1  # the head names a row that is not the last one (rows removed from the end)
ANCHOR_MISMATCH = -2  # the anchored row is gone or its hash differs


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str


def audit_seal(*, grace_seconds: float | None = None, batch: int = 5000) -> int:
    """Chain every committed unsealed row older than the grace period, in id order. Returns how many."""
    grace = settings.AUDIT_SEAL_GRACE_SECONDS if grace_seconds is None else grace_seconds
    sealed = 0
    while True:
        with transaction.atomic():
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(
                id=1, defaults={"last_hash": GENESIS_HASH, "last_seq": 0}
            )
            cutoff = timezone.now() - timedelta(seconds=grace)
            rows = list(AuditEvent.objects.filter(hash__isnull=True, occurred_at__lte=cutoff).order_by("id")[:batch])
            for row in rows:
                row.seq = head.last_seq + 1
                row.hash = event_hash(row, head.last_hash)
                AuditEvent.objects.filter(pk=row.pk).seal(seq=row.seq, prev_hash=head.last_hash, hash=row.hash)
                head.last_seq, head.last_hash = row.seq, row.hash
            if rows:
                head.save(update_fields=["last_seq", "last_hash"])
        sealed += len(rows)
        if len(rows) < batch:
            return sealed


def chain_verify() -> list[int]:
    """Ids of sealed rows whose position, link or HMAC does not match; END_OF_CHAIN if the head
    disagrees with the last row; ANCHOR_MISMATCH if the latest anchor is not in the chain.
    Empty means intact.

    Catches an edited row (its HMAC no longer matches), a deleted row (a gap in `seq` and a
    broken link), an inserted row, hashes recomputed without the key, and the tail deleted
    with the head reset (the anchor outside the database still names it)."""
    broken: list[int] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    anchor = latest_anchor()
    anchor_found = anchor is None
    for event in AuditEvent.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        bad = event.seq != expected_seq or event.prev_hash != expected_prev
        if bad or event_hash(event, event.prev_hash) != event.hash:
            broken.append(event.pk)
        if anchor is not None and event.seq == anchor.seq:
            anchor_found = event.hash == anchor.hash
        expected_prev, expected_seq = event.hash or "", (event.seq or 0) + 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != expected_prev or head.last_seq != expected_seq - 1):
        broken.append(END_OF_CHAIN)
    if not anchor_found:
        broken.append(ANCHOR_MISMATCH)
    return broken


def latest_anchor() -> Anchor | None:
    path = anchor_path()
    if path is None or not path.exists():
        return None
    last = ""
    with path.open() as lines:
        for line in lines:
            if line.strip():
                last = line
    if not last:
        return None
    data = json.loads(last)
    return Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))


def anchor_path() -> Path | None:
    return Path(settings.AUDIT_ANCHOR_FILE) if settings.AUDIT_ANCHOR_FILE else None


def audit_anchor() -> Anchor:
    """Seal, then write the head outside the database: a line in AUDIT_ANCHOR_FILE, the log, and
    an e-mail to the clinic admins (a position and a hash only: no patient data)."""
    audit_seal()
    head = AuditChainHead.objects.filter(id=1).first()
    anchor = Anchor(
        seq=head.last_seq if head else 0,
        hash=head.last_hash if head else GENESIS_HASH,
        at=timezone.now().isoformat(),
    )
    line = json.dumps({"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at}, sort_keys=True)
    path = anchor_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(line + "\n")
    logger.info("audit anchor %s", line)
    admins = list(
        User.objects.filter(Q(is_clinic_admin=True) | Q(is_superuser=True), is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if admins:
        send_mail(
            subject="Tandem audit anchor",
            message=(
                "The audit trail's head at this time; keep this mail. `verify_audit` compares the\n"
                f"trail with the latest anchor.\n\nposition: {anchor.seq}\nhash: {anchor.hash}\nat: {anchor.at}\n"
            ),
            from_email=None,
            recipient_list=admins,
        )
    return anchor
