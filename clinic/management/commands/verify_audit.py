"""Check the audit trail's hash chain (SECURITY.md AL-2). Exit 1 if any row was tampered with."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinic.audit import audit_verify
from clinic.models import AuditEvent


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; fails if a row was edited, removed or inserted."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit_verify()
        total = AuditEvent.objects.count()
        if broken:
            where = ", ".join("end of chain" if i == -1 else f"#{i}" for i in broken[:20])
            raise CommandError(f"Audit chain broken at {len(broken)} place(s) of {total} rows: {where}")
        self.stdout.write(f"Audit chain intact: {total} rows verified.")
