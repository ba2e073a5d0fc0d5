"""Running reports: the audit event of every run and export, and the background runs whose
CSV is kept for download (clinic.models.ReportRun).

A background run carries ids only into Celery (the run's pk); the report is computed by
the worker from the stored parameters (dates, a staff id, allow-listed options), with
progress written to the run row as it goes so the page can poll it.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.access import Action, require, user_can, visible_or_404
from clinic.audit import audit_record
from clinic.models import AuditAction, User
from reports.base import REPORT_OBJECT_TYPE, Report, ReportResult
from reports.catalog import report_get
from reports.csv_export import result_to_csv
from reports.models import ReportRun, ReportRunStatus
from reports.params import ReportParamsForm

logger = logging.getLogger("reports.runs")

# SECURITY.md PF-2 (ours): exporting more than this many records raises an operator alert.
BULK_EXPORT_ROWS = 1000
# How many background runs the reports page lists.
RECENT_RUNS = 10


def _bulk_alarm(*, user: User, report: Report, rows: int) -> None:
    if rows > BULK_EXPORT_ROWS:
        logger.warning("bulk export alert: user_id=%s report=%s rows=%d", user.pk, report.key, rows)


def report_used(*, user: User, result: ReportResult, fmt: str) -> None:
    """Audit one run of a report shown or exported (SECURITY.md AL-1: every export and print,
    with the parameters and the number of records; never patient data).

    `rows` is what this use disclosed: one page of a long care-team list is 100 records, not
    the list's length (`total_rows`), so paging through a caseload does not raise the bulk
    export alarm on every page while a CSV of all of it does."""
    action = AuditAction.PRINT if fmt == "print" else AuditAction.EXPORT
    audit_record(
        actor=user,
        action=action,
        object_type=REPORT_OBJECT_TYPE,
        object_id=result.report.key,
        changes={
            "format": fmt,
            "parameters": result.params.as_json(),
            "options": result.options,
            "rows": result.rows_shown,
            "total_rows": result.row_count,
        },
    )
    _bulk_alarm(user=user, report=result.report, rows=result.rows_shown)


def run_parameters(*, params_query: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {**params_query, "options": dict(options)}


@transaction.atomic
def report_run_request(
    *, actor: User, report: Report, params_query: Mapping[str, str], options: Mapping[str, Any]
) -> ReportRun:
    """Queue a background run; the task is sent once this transaction commits."""
    if not user_can(actor, report.action):
        raise PermissionError("Your role may not run this report.")
    run = ReportRun(
        requested_by=actor, report=report.key, parameters=run_parameters(params_query=params_query, options=options)
    )
    run.full_clean()
    run.save()
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=run,
        changes={"report": report.key, "format": "csv", "status": ReportRunStatus.QUEUED, "parameters": run.parameters},
    )
    from reports.tasks import report_run_task

    run_id = run.pk
    transaction.on_commit(lambda: report_run_task.delay(run_id))
    return run


def _claim(run_id: int) -> bool:
    """Mark the run running. False if it already finished (a redelivered task does nothing)."""
    return bool(
        ReportRun.objects.filter(pk=run_id, status__in=[ReportRunStatus.QUEUED, ReportRunStatus.RUNNING]).update(
            status=ReportRunStatus.RUNNING, started_at=timezone.now(), progress=1
        )
    )


def _progress_writer(run_id: int) -> Any:
    last = {"value": 1}

    def write(percent: int) -> None:
        # The report's 0-100 becomes 1-95 here: writing the CSV is the last step.
        value = max(1, min(95, round(percent * 0.95)))
        if value > last["value"]:
            last["value"] = value
            ReportRun.objects.filter(pk=run_id).update(progress=value)

    return write


def _fail(run_id: int, error: str) -> None:
    ReportRun.objects.filter(pk=run_id).update(
        status=ReportRunStatus.FAILED, error_id=error, finished_at=timezone.now()
    )


def report_run_execute(*, run_id: int) -> None:
    """Compute a queued run (called by the Celery task). Never raises: a failure is recorded
    on the run with an error id that points at the log line."""
    if not _claim(run_id):
        return
    run = ReportRun.objects.select_related("requested_by").get(pk=run_id)
    report = report_get(run.report)
    user = run.requested_by
    if report is None or not user_can(user, report.action):  # a role taken away since it was queued
        _fail(run_id, "not-allowed")
        return
    try:
        form = ReportParamsForm(run.parameters, today=timezone.localdate(run.created_at))
        options_form = report.options_form(run.parameters.get("options") or {})
        if not form.is_valid() or (options_form is not None and not options_form.is_valid()):
            _fail(run_id, "bad-parameters")
            return
        options = options_form.cleaned_data if options_form is not None else {}
        result = report.run(form.params(user), options=options, paginate=False, progress=_progress_writer(run_id))
        csv_text = result_to_csv(result)
    except Exception as error:
        error_id = uuid.uuid4().hex[:12]
        # The type only: a message could quote data (SECURITY.md LG-1).
        logger.error("report run failed: run_id=%s error_id=%s type=%s", run_id, error_id, type(error).__name__)
        _fail(run_id, error_id)
        return
    ReportRun.objects.filter(pk=run_id).update(
        status=ReportRunStatus.DONE,
        progress=100,
        result_csv=csv_text,
        row_count=result.row_count,
        finished_at=timezone.now(),
    )


def report_runs_of(user: User) -> QuerySet[ReportRun]:
    """The user's own runs, newest first (a care-team CSV names patients: never anyone else's)."""
    if not any(user_can(user, action) for action in (Action.RUN_REPORTS, Action.VIEW_CLINICAL)):
        return ReportRun.objects.none()
    return ReportRun.objects.filter(requested_by=user).defer("result_csv").order_by("-created_at", "-id")


def report_run_for(*, user: User, public_id: UUID | str) -> ReportRun:
    return visible_or_404(report_runs_of(user), user=user, public_id=public_id)


def report_run_download(*, user: User, run: ReportRun) -> str:
    """The run's CSV, audited as an export. 404 until the run is done; 403 (audited) once the
    user's roles no longer allow the report (a care manager who lost the role keeps no list)."""
    if run.status != ReportRunStatus.DONE:
        raise Http404
    report = report_get(run.report)
    if report is None:
        raise Http404
    require(user, report.action, object_type=REPORT_OBJECT_TYPE, object_id=run.report)
    csv_text = ReportRun.objects.filter(pk=run.pk).values_list("result_csv", flat=True).get()
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=run,
        changes={"report": run.report, "format": "csv", "parameters": run.parameters, "rows": run.row_count},
    )
    _bulk_alarm(user=user, report=report, rows=run.row_count or 0)
    return csv_text


def csv_filename(*, report_key: str, day: date) -> str:
    return f"tandem-{report_key}-{day.isoformat()}.csv"
