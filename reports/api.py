"""Clinic reports API. Admin reports (aggregates) for clinic admins, the care teams' patient-
level reports (registry, missed_reviews, monitoring_overdue) for clinicians, of their own
caseload only (reports.base audiences; issue 12 item 5). Anyone else 403, no credentials 401.

- GET  /api/v1/reports/                     the reports the caller may run:
                                            {key, title, description, uses_period, audience}
- GET  /api/v1/reports/{key}/               run one: ?period=3m|6m|12m|ytd|custom&start=&end=
                                            &clinician=<staff id> plus the report's own options
                                            (registry: ?sort=, ?flag=, ?page=); every run audited
- GET/POST /api/v1/reports/runs/            background CSV exports (own runs only)
- GET  /api/v1/reports/runs/{id}/           status and progress 0-100
- GET  /api/v1/reports/runs/{id}/csv/       the CSV once done (audited as an export)
Bad parameters are a 400 with errors keyed by field; an unknown sort or filter value too
(SECURITY.md IV-4).
"""

from typing import Any, cast

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from clinic.access import Action, require, user_can
from clinic.viewsets import AdminViewSet
from reports.base import REPORT_OBJECT_TYPE, Report, ReportResult
from reports.catalog import report_get, report_keys, reports_for
from reports.models import ReportRun, ReportRunStatus
from reports.params import PERIODS, ReportParamsForm
from reports.runs import (
    csv_filename,
    report_run_download,
    report_run_for,
    report_run_request,
    report_runs_of,
    report_used,
)


class _ReportsViewSet(AdminViewSet):
    """Open to whoever may run at least one report; each report then checks its own action
    (`_report_for`). A caller with neither role gets the AdminViewSet 403 for RUN_REPORTS."""

    admin_action = Action.RUN_REPORTS
    denied_as = REPORT_OBJECT_TYPE

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.user.is_authenticated and user_can(request.user, Action.VIEW_CLINICAL):
            super(AdminViewSet, self).initial(request, *args, **kwargs)  # authentication, throttles; no admin check
            return
        super().initial(request, *args, **kwargs)

    def _report_for(self, key: str) -> Report:
        report = report_get(key)
        if report is None:
            raise NotFound
        require(self.user, report.action, object_type=REPORT_OBJECT_TYPE, object_id=self.request.path[:64])
        return report


def _form_errors(*forms: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for form in forms:
        if form is None:
            continue
        for field, messages in form.errors.items():
            errors.setdefault("non_field_errors" if field == "__all__" else field, []).extend(messages)
    return errors


def _valid_forms(report: Report, params_data: Any, options_data: Any) -> tuple[ReportParamsForm, Any]:
    """Both forms validated, or a 400 with every error keyed by field."""
    form = ReportParamsForm(params_data)
    options_form = report.options_form(options_data)
    valid = form.is_valid()
    if options_form is not None:
        valid = options_form.is_valid() and valid
    if not valid:
        raise ValidationError(_form_errors(form, options_form))
    return form, options_form


def _refuse_unknown(names: Any, known: set[str]) -> None:
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationError({name: ["Unknown parameter."] for name in unknown})


def _option_names(report: Report) -> set[str]:
    options_form = report.options_form(None)
    return set(options_form.fields) if options_form is not None else set()


def _cell(value: Any) -> Any:
    if isinstance(value, list):  # flags: [(key, label), ...] -> keys
        return [item[0] if isinstance(item, tuple) else item for item in value]
    return value


def result_data(result: ReportResult) -> dict[str, Any]:
    return {
        "report": result.report.key,
        "title": result.report.title,
        "parameters": result.params.as_json() | {"as_of": result.params.today.isoformat()},
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "note": section.note,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in section.columns],
                "rows": [
                    {
                        **({"patient_id": row["patient_id"]} if "patient_id" in row else {}),
                        **{c.key: _cell(row.get(c.key)) for c in section.columns},
                    }
                    for row in section.rows
                ],
                "count": section.total_rows,
                "page": section.page.number if section.page else None,
                "pages": section.page.pages if section.page else None,
            }
            for section in result.sections
        ],
    }


class ReportSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    uses_period = serializers.BooleanField(help_text="False: a snapshot as of today.")
    audience = serializers.CharField(
        help_text='admin: aggregates only (counts from 1 to 4 are the string "<5"); care_team: patient rows '
        "of the caller's own caseload."
    )


@extend_schema_serializer(many=False)  # the list is one page, as every list of the API (DESIGN.md)
class PaginatedReportListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReportSerializer(many=True)


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # an API field; the stubs see Field.label
    kind = serializers.CharField(help_text="text, int, percent, number, date, flags, patient")


class SectionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per row, keyed by column.")
    count = serializers.IntegerField(help_text="Rows over all pages.")
    page = serializers.IntegerField(allow_null=True)
    pages = serializers.IntegerField(allow_null=True)


class ReportResultSerializer(serializers.Serializer):
    report = serializers.CharField()
    title = serializers.CharField()
    parameters = serializers.DictField(child=serializers.CharField())
    sections = SectionSerializer(many=True)


PARAMETERS = [
    OpenApiParameter("period", str, enum=[key for key, _ in PERIODS], description="Default 12m."),
    OpenApiParameter("start", OpenApiTypes.DATE, description="With period=custom."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="With period=custom; not in the future."),
    OpenApiParameter("clinician", OpenApiTypes.UUID, description="Staff id: that clinician's patients."),
    OpenApiParameter("sort", str, description="Registry: an allow-listed column, '-' for descending."),
    OpenApiParameter("flag", str, many=True, description="Registry: only patients with any of these flags."),
    OpenApiParameter("page", int, description="Registry: page of 100 rows."),
]


class ReportViewSet(_ReportsViewSet):
    """The clinic reports; retrieving one runs it (audited)."""

    lookup_field = "key"
    lookup_value_regex = "[a-z_]+"

    @extend_schema(responses=PaginatedReportListSerializer)
    def list(self, request: Request) -> Response:
        data = ReportSerializer(reports_for(self.user), many=True).data
        return Response({"count": len(data), "next": None, "previous": None, "results": data})

    @extend_schema(parameters=PARAMETERS, responses={200: ReportResultSerializer})
    def retrieve(self, request: Request, key: str) -> Response:
        report = self._report_for(key)
        _refuse_unknown(request.query_params, set(ReportParamsForm.base_fields) | _option_names(report))
        form, options_form = _valid_forms(report, request.query_params, request.query_params)
        options = options_form.cleaned_data if options_form is not None else {}
        result = report.run(form.params(self.user), options=options, paginate=True)
        result.options = {k: v for k, v in options.items() if k != "page"}
        report_used(user=self.user, result=result, fmt="json")
        return Response(result_data(result))


class ReportRunSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.ChoiceField(choices=ReportRunStatus.choices, read_only=True)
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "report",
            "parameters",
            "status",
            "progress",
            "row_count",
            "error_id",
            "created_at",
            "started_at",
            "finished_at",
            "csv_url",
        ]
        read_only_fields = fields

    def get_csv_url(self, run: ReportRun) -> str | None:
        if run.status != ReportRunStatus.DONE:
            return None
        return f"/api/v1/reports/runs/{run.public_id}/csv/"


class ReportRunRequestSerializer(serializers.Serializer):
    report = serializers.ChoiceField(choices=[])
    period = serializers.ChoiceField(choices=PERIODS, required=False, default="12m")
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    clinician = serializers.UUIDField(required=False)
    options = serializers.DictField(
        required=False,
        help_text='The report\'s sort/filter options, e.g. {"sort": "-phq9_latest", "flag": ["safety_alert"]}.',
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(serializers.ChoiceField, self.fields["report"]).choices = [(key, key) for key in report_keys()]


class ReportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReportsViewSet):
    """Background CSV exports of a report, with progress. Only the requester sees a run."""

    serializer_class = ReportRunSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ReportRun.objects.none()
        return report_runs_of(self.user)

    def get_object(self) -> ReportRun:
        return report_run_for(user=self.user, public_id=self.kwargs["public_id"])

    @extend_schema(request=ReportRunRequestSerializer, responses={202: ReportRunSerializer})
    def create(self, request: Request) -> Response:
        given = ReportRunRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        report = self._report_for(given.validated_data["report"])
        data = {
            k: (v.isoformat() if hasattr(v, "isoformat") else str(v))
            for k, v in given.validated_data.items()
            if k not in {"report", "options"}
        }
        given_options = given.validated_data.get("options") or {}
        _refuse_unknown(given_options, _option_names(report) - {"page"})
        form, options_form = _valid_forms(report, data, given_options)
        options = {
            k: v
            for k, v in (options_form.cleaned_data if options_form is not None else {}).items()
            if k != "page" and v not in (None, "", [])
        }
        run = report_run_request(actor=self.user, report=report, params_query=form.query(), options=options)
        return Response(ReportRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV.")})
    @action(detail=True, methods=["get"])
    def csv(self, request: Request, public_id: str) -> HttpResponse:
        run = self.get_object()
        csv_text = report_run_download(user=self.user, run=run)
        response = HttpResponse(csv_text, content_type="text/csv; charset=utf-8")
        filename = csv_filename(report_key=run.report, day=timezone.localdate(run.created_at))
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def register_routes(router: SimpleRouter) -> None:
    """Called by clinic/urls.py. The runs are registered first so `runs` is never read as a key."""
    router.register("reports/runs", ReportRunViewSet, basename="reportrun")
    router.register("reports", ReportViewSet, basename="report")
