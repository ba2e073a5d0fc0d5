"""The Celery task that writes a bulk export's NDJSON files. Its one argument is the export's
pk (no patient data in task arguments, SECURITY.md LG-1); a redelivered message does nothing."""

from celery import shared_task

from fhir_r4.bulk import export_execute


@shared_task(ignore_result=True)
def bulk_export_task(export_id: int) -> None:
    export_execute(export_id=export_id)
