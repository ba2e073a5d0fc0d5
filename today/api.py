"""GET /api/v1/worklist/ (issue 16 item 1): what needs the caller today, most urgent first,
paginated: {kind, patient, title, due_date, severity, url}. Only the caller's patients
(clinic.access.patients_in_scope); `?patient=` narrows it to one (audited 404 if not theirs).
A clinic admin has no clinical patients: an empty list."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import remove_query_param, replace_query_param

from careplans.models import Patient
from clinic.viewsets import ClinicalViewSet
from today.worklist import PAGE_SIZE, Severity, WorkItem, worklist_page, worklist_sources

PAGE_PARAMETER = OpenApiParameter("page", int, description="A page number within the paginated result set.")


def _page_number(raw: str | None) -> int:
    try:
        number = int(raw or 1)
    except ValueError:
        raise NotFound("Invalid page.") from None
    if number < 1:
        raise NotFound("Invalid page.")
    return number


class WorkItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[],
        read_only=True,
        help_text="safety_alert, critical_result, monitoring_overdue, session_follow_up, "
        "not_improving, measurement_due, team_message (more kinds may be added).",
    )
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    patient_name = serializers.SerializerMethodField()
    title = serializers.CharField(read_only=True)
    due_date = serializers.DateField(read_only=True, allow_null=True)
    severity = serializers.ChoiceField(
        choices=[s.label for s in Severity], read_only=True, help_text="urgent, high or routine."
    )
    url = serializers.CharField(read_only=True, help_text="The page where the item is handled.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [source.kind for source in worklist_sources()]  # type: ignore[attr-defined]

    def get_patient_name(self, item: WorkItem) -> str:
        return f"{item.patient.given_name} {item.patient.family_name}"

    def to_representation(self, instance: WorkItem) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["severity"] = instance.severity.label
        return data


class WorklistViewSet(ClinicalViewSet):
    """The caller's worklist, computed from every app's open items."""

    model = Patient
    patient_field = "pk"
    serializer_class = WorkItemSerializer

    def visible_queryset(self) -> QuerySet[Patient]:
        return self.visible_patients()

    def filter_by_patient(self, queryset: QuerySet[Any], patient: Any) -> QuerySet[Any]:
        return queryset.filter(pk=patient.pk)

    @extend_schema(responses=WorkItemSerializer(many=True), parameters=[PAGE_PARAMETER])
    def list(self, request: Request) -> Response:
        """The same paginated envelope as every list ({count, next, previous, results}), but each
        source reads only its first page*50 rows (issue 14): a page costs the same at any caseload."""
        # ?patient= narrows the scope to one (an audited 404 if not the caller's); without it the
        # worklist reads the caller's scope by its faster ids subquery (today.worklist).
        narrowed = self.filter_queryset(self.get_queryset())
        patients = narrowed if request.query_params.get("patient") else None
        number = _page_number(request.query_params.get("page"))
        page = worklist_page(self.user, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, patients=patients)
        if number > 1 and not page.items:
            raise NotFound("Invalid page.")
        # Work items are not model rows: name the page's patients for the read audit (one event).
        self._read_patients = list(dict.fromkeys(item.patient.public_id for item in page.items))
        url = request.build_absolute_uri()
        return Response(
            {
                "count": page.total,
                "next": replace_query_param(url, "page", number + 1) if page.has_next else None,
                "previous": (
                    None
                    if number == 1
                    else remove_query_param(url, "page")
                    if number == 2
                    else replace_query_param(url, "page", number - 1)
                ),
                "results": WorkItemSerializer(page.items, many=True).data,
            }
        )


def register_routes(router: SimpleRouter) -> None:
    router.register("worklist", WorklistViewSet, basename="worklist")
