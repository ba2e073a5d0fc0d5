"""FHIR Bulk Data `$export` for the clinic (issue 18), the reports' background-run pattern:
a clinic admin kicks off (audited, 202 + Content-Location), a Celery task writes one NDJSON
file per resource type with progress, the status URL answers 202 + X-Progress then 200 with
the manifest; the files are for the requester only and expire (410 after)."""

import logging
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from rest_framework.request import Request

from careplans.models import Patient
from clinic.access import Action, require, user_can, visible_or_404
from clinic.audit import audit_record
from clinic.models import AuditAction, User
from fhir_r4 import builders
from fhir_r4.models import BulkExport, BulkExportFile, ExportStatus
from reports.runs import BULK_EXPORT_ROWS

logger = logging.getLogger("fhir.bulk")
alarm_logger = logging.getLogger("reports.runs")  # the operator's bulk-export alert (SECURITY.md PF-2)

EXPIRES_AFTER = timedelta(hours=24)
EXPORT_TYPES = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "CareTeam",
    "CarePlan",
    "Goal",
    "Condition",
    "MedicationRequest",
    "Observation",
    "QuestionnaireResponse",
    "Encounter",
)


def _types(value: str) -> list[str]:
    from fhir_r4.views import FhirError

    asked = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in asked if t not in EXPORT_TYPES]
    if unknown:
        raise FhirError(400, "not-supported", f"_type: not exported: {', '.join(unknown)}.", "_type")
    return asked


def export_request(*, user: User, types: str) -> BulkExport:
    require(user, Action.RUN_REPORTS, object_type="fhir.export", object_id="$export")
    export = BulkExport.objects.create(
        requested_by=user, types=_types(types), expires_at=timezone.now() + EXPIRES_AFTER
    )
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=export,
        changes={"format": "fhir-ndjson", "status": ExportStatus.QUEUED, "types": export.types},
    )
    from fhir_r4.tasks import bulk_export_task

    export_id = export.pk
    transaction.on_commit(lambda: bulk_export_task.delay(export_id))
    return export


def export_for(*, user: User, public_id: UUID | str) -> BulkExport:
    """The requester's own export; anyone else's (or unknown) is an audited 404."""
    return visible_or_404(BulkExport.objects.filter(requested_by=user), user=user, public_id=public_id)


def export_state(export: BulkExport) -> str:
    if export.status == ExportStatus.FAILED:
        return "failed"
    if export.expires_at <= timezone.now():
        return "expired"
    return "done" if export.status == ExportStatus.DONE else "pending"


def export_execute(*, export_id: int) -> None:
    claimed = BulkExport.objects.filter(pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).update(
        status=ExportStatus.RUNNING, progress=1
    )
    if not claimed:
        return
    export = BulkExport.objects.select_related("requested_by").get(pk=export_id)
    user = export.requested_by
    if not user_can(user, Action.RUN_REPORTS):
        BulkExport.objects.filter(pk=export_id).update(status=ExportStatus.FAILED, error="not-allowed")
        return
    try:
        wanted = set(export.types or EXPORT_TYPES)
        lines: dict[str, list[str]] = defaultdict(list)
        seen: set[tuple[str, str]] = set()
        patients = list(Patient.objects.order_by("id"))
        for number, patient in enumerate(patients, start=1):
            for resource in builders.resources_of(builders.record_of(patient)):
                kind = resource.get_resource_type()
                key = (kind, str(resource.id))
                if kind in wanted and key not in seen:  # a practitioner is on many teams: once
                    seen.add(key)
                    lines[kind].append(resource.model_dump_json(by_alias=True, exclude_none=True))
            percent = max(1, min(95, round(number * 95 / len(patients))))
            BulkExport.objects.filter(pk=export_id, progress__lt=percent).update(progress=percent)
        with transaction.atomic():
            BulkExportFile.objects.filter(export_id=export_id).delete()
            BulkExportFile.objects.bulk_create(
                BulkExportFile(export_id=export_id, resource_type=kind, count=len(rows), content="\n".join(rows) + "\n")
                for kind, rows in sorted(lines.items())
            )
            BulkExport.objects.filter(pk=export_id).update(
                status=ExportStatus.DONE, progress=100, finished_at=timezone.now()
            )
    except Exception as error:
        error_id = uuid.uuid4().hex[:12]
        logger.error("bulk export failed: export_id=%s error_id=%s type=%s", export_id, error_id, type(error).__name__)
        BulkExport.objects.filter(pk=export_id).update(status=ExportStatus.FAILED, error=error_id)
        return
    rows = sum(len(r) for r in lines.values())
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=export,
        changes={"format": "fhir-ndjson", "status": ExportStatus.DONE, "rows": rows, "patients": len(patients)},
    )
    if rows > BULK_EXPORT_ROWS:
        alarm_logger.warning("bulk export alert: user_id=%s report=%s rows=%d", user.pk, "fhir-export", rows)


def manifest(export: BulkExport, request: Request) -> dict[str, Any]:
    base = request.build_absolute_uri(f"/fhir/R4/$export-file/{export.public_id}/")
    return {
        "transactionTime": (export.finished_at or export.created_at).isoformat(),
        "request": request.build_absolute_uri("/fhir/R4/$export"),
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{base}{f.resource_type}.ndjson", "count": f.count}
            for f in export.files.only("resource_type", "count")
        ],
        "error": [],
    }


def export_file(*, user: User, export: BulkExport, name: str) -> str:
    from django.http import Http404

    file = export.files.filter(resource_type=name.removesuffix(".ndjson")).first()
    if file is None:
        raise Http404
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=export,
        changes={"format": "fhir-ndjson", "download": file.resource_type, "rows": file.count},
    )
    return file.content


def export_delete(*, user: User, export: BulkExport) -> None:
    export.files.all().delete()
    BulkExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    audit_record(actor=user, action=AuditAction.ENTER_IN_ERROR, obj=export, changes={"deleted": True})
