"""GET /api/v1/worklist/ (issue 16 item 1): what needs the caller today, most urgent first,
paginated: {kind, patient, title, due_date, severity, url}. Only the caller's patients
(clinic.access.patients_in_scope); `?patient=` narrows it to one (audited 404 if not theirs).
A clinic admin has no clinical patients: an empty list."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from careplans.models import Patient
from clinic.viewsets import ClinicalViewSet
from today.worklist import Severity, WorkItem, worklist_for, worklist_sources


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

    @extend_schema(responses=WorkItemSerializer(many=True))
    def list(self, request: Request) -> Response:
        patients = self.filter_queryset(self.get_queryset())
        items = worklist_for(self.user, patients=patients)
        page = self.paginate_queryset(items)  # type: ignore[arg-type]
        # Work items are not model rows: name the page's patients for the read audit (one event).
        self._read_patients = list(dict.fromkeys(item.patient.public_id for item in page or []))
        return self.get_paginated_response(WorkItemSerializer(page, many=True).data)


def register_routes(router: SimpleRouter) -> None:
    router.register("worklist", WorklistViewSet, basename="worklist")
