"""Write the audit chain's head outside the database now (the beat task does it hourly)."""

from typing import Any

from django.core.management.base import BaseCommand

from clinic.audit_chain import anchor_path, audit_anchor


class Command(BaseCommand):
    help = "Seal the audit trail and append its head (position, hash) to AUDIT_ANCHOR_FILE; mail the admins."

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = audit_anchor()
        self.stdout.write(f"Audit anchor: position {anchor.seq}, hash {anchor.hash} -> {anchor_path() or 'log only'}")
