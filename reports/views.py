"""Clinic reports pages. Each report's audience decides who may open it (reports.base): the
aggregates need RUN_REPORTS (clinic admins), the care teams' patient-level lists
VIEW_CLINICAL (clinicians, their own caseload only). Anyone else 403 (audited, through
clinic.access.require), anonymous to the login page.

Thin views: the period form and the report's own options form (allow-listed sort and
filter choices) -> the report -> an audited render. CSV exports run in the background
(reports.runs) and the run page polls their progress with htmx.
"""

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import Action, AuthenticatedRequest, clinical_page, require
from reports.base import REPORT_OBJECT_TYPE, Report
from reports.catalog import report_get, reports_for
from reports.params import ReportParamsForm
from reports.runs import (
    RECENT_RUNS,
    csv_filename,
    report_run_download,
    report_run_for,
    report_run_request,
    report_runs_of,
    report_used,
)

DEFAULT_PERIOD = {"period": "12m"}


def _report_or_404(request: AuthenticatedRequest, key: str) -> Report:
    """The report, if the caller's roles may run it (else 403, audited); unknown keys 404."""
    report = report_get(key)
    if report is None:
        raise Http404
    require(request.user, report.action, object_type=REPORT_OBJECT_TYPE, object_id=request.path[:64])
    return report


def _require_some_report(request: AuthenticatedRequest) -> None:
    """The index and the runs: for whoever may run at least one report."""
    if not reports_for(request.user):
        require(request.user, Action.RUN_REPORTS, object_type=REPORT_OBJECT_TYPE, object_id=request.path[:64])


def _forms(request: AuthenticatedRequest, report: Report, data: Any) -> tuple[ReportParamsForm, Any]:
    params_data = data if data.get("period") or data.get("start") or data.get("clinician") else DEFAULT_PERIOD
    return ReportParamsForm(params_data), report.options_form(data)


def _report_context(request: AuthenticatedRequest, report: Report, *, fmt: str) -> dict[str, Any]:
    form, options_form = _forms(request, report, request.GET)
    result = None
    query = ""
    export_fields: list[tuple[str, Any]] = []
    if form.is_valid() and (options_form is None or options_form.is_valid()):
        options = options_form.cleaned_data if options_form is not None else {}
        result = report.run(form.params(request.user), options=options, paginate=True)
        result.options = {k: v for k, v in options.items() if k != "page"}
        report_used(user=request.user, result=result, fmt=fmt)
        fields = {**form.query(), **_options_query(options)}
        query = urlencode(fields, doseq=True)
        export_fields = [
            (name, item) for name, value in fields.items() for item in (value if isinstance(value, list) else [value])
        ]
    return {
        "report": report,
        "reports": reports_for(request.user),
        "form": form,
        "options_form": options_form,
        "result": result,
        "query": query,
        "export_fields": export_fields,
    }


def _options_query(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key != "page" and value not in (None, "", [])}


@clinical_page(denied_as=REPORT_OBJECT_TYPE)
def reports_index(request: AuthenticatedRequest) -> HttpResponse:
    _require_some_report(request)
    form = ReportParamsForm(request.GET if request.GET else DEFAULT_PERIOD)
    query = urlencode(form.query()) if form.is_valid() else ""
    runs = list(report_runs_of(request.user)[:RECENT_RUNS])
    for run in runs:
        known = report_get(run.report)
        run.title = known.title if known is not None else run.report  # type: ignore[attr-defined]
    return render(
        request,
        "reports/index.html",
        {
            "reports": reports_for(request.user),
            "form": form,
            "query": query,
            "runs": runs,
        },
    )


@clinical_page(denied_as=REPORT_OBJECT_TYPE)
def report_page(request: AuthenticatedRequest, key: str) -> HttpResponse:
    report = _report_or_404(request, key)
    return render(request, "reports/report.html", _report_context(request, report, fmt="html"))


@clinical_page(denied_as=REPORT_OBJECT_TYPE)
def report_print(request: AuthenticatedRequest, key: str) -> HttpResponse:
    report = _report_or_404(request, key)
    context = _report_context(request, report, fmt="print")
    context["printed_at"] = timezone.localtime()
    return render(request, "reports/print.html", context)


@clinical_page(methods=["POST"], denied_as=REPORT_OBJECT_TYPE)
def report_export(request: AuthenticatedRequest, key: str) -> HttpResponse:
    """Queue a CSV export of the report as chosen; the run page shows its progress."""
    report = _report_or_404(request, key)
    form, options_form = _forms(request, report, request.POST)
    if not form.is_valid() or (options_form is not None and not options_form.is_valid()):
        context = {
            "report": report,
            "reports": reports_for(request.user),
            "form": form,
            "options_form": options_form,
            "result": None,
            "query": "",
        }
        return render(request, "reports/report.html", context, status=400)
    options = _options_query(options_form.cleaned_data) if options_form is not None else {}
    run = report_run_request(actor=request.user, report=report, params_query=form.query(), options=options)
    return redirect("reports:run", run_id=run.public_id)


@clinical_page(denied_as=REPORT_OBJECT_TYPE)
def report_run(request: AuthenticatedRequest, run_id: str) -> HttpResponse:
    _require_some_report(request)
    run = report_run_for(user=request.user, public_id=run_id)
    context = {"run": run, "report": report_get(run.report), "reports": reports_for(request.user)}
    if request.htmx:
        return render(request, "reports/_run_status.html", context)
    return render(request, "reports/run.html", context)


@clinical_page(denied_as=REPORT_OBJECT_TYPE)
def report_run_csv(request: AuthenticatedRequest, run_id: str) -> HttpResponse:
    _require_some_report(request)
    run = report_run_for(user=request.user, public_id=run_id)
    csv_text = report_run_download(user=request.user, run=run)
    response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
    filename = csv_filename(report_key=run.report, day=timezone.localdate(run.created_at))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
