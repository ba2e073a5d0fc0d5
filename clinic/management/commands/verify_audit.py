"""Check the audit trail's hash chain (SECURITY.md AL-2). Exit 1 if any row was tampered with."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinic.audit_chain import ANCHOR_MISMATCH, END_OF_CHAIN, audit_seal, chain_verify, latest_anchor
from clinic.models import AuditEvent

WHERE = {END_OF_CHAIN: "end of chain", ANCHOR_MISMATCH: "the latest anchor"}


class Command(BaseCommand):
    help = "Seal, then verify the audit trail's HMAC chain against the latest anchor; fails if tampered with."

    def handle(self, *args: Any, **options: Any) -> None:
        sealed = audit_seal()
        broken = chain_verify()
        total = AuditEvent.objects.count()
        if broken:
            where = ", ".join(WHERE.get(i, f"#{i}") for i in broken[:20])
            raise CommandError(f"Audit chain broken at {len(broken)} place(s) of {total} rows: {where}")
        anchor = latest_anchor()
        against = f"; matches the anchor at position {anchor.seq} ({anchor.at})" if anchor else "; no anchor yet"
        self.stdout.write(f"Audit chain intact: {total} rows verified ({sealed} newly sealed){against}.")
