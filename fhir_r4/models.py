"""Bulk Data `$export` runs (issue 18): like reports' ReportRun, one row per kick-off,
with its progress and the NDJSON files it wrote, kept for the requester until they expire."""

from django.conf import settings
from django.db import models

from clinic.models import PublicIdModel


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BulkExport(PublicIdModel):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    types = models.JSONField(default=list, blank=True, help_text="`_type`: resource types asked for (all if empty).")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=32, blank=True, help_text="An error id pointing at the log line.")
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ExportStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="%(app_label)s_%(class)s_progress_range"
            ),
        ]

    def __str__(self) -> str:
        return f"bulk export {self.public_id} ({self.status})"


class BulkExportFile(models.Model):
    """One NDJSON file: every resource of one type, one a line."""

    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    count = models.PositiveIntegerField()
    content = models.TextField()

    class Meta:
        ordering = ["resource_type"]
        constraints = [models.UniqueConstraint(fields=["export", "resource_type"], name="fhir_export_file_unique")]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson"
