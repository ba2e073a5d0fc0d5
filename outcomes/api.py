"""REST API of the outcomes app (DESIGN.md API contract v1).

- /assessments/            GET (?patient=), POST {patient, instrument, responses, administered_on}
- /patients/{id}/outcomes/ GET: per instrument {baseline, latest, change_percent, response,
                           remission, not_improving, ...}
- /safety-alerts/          GET (?patient=): safety alerts with their `source` (phq9_item9, cssrs,
                           session_risk) and whether they were followed up
- /safety-follow-ups/      GET (?patient=), POST: the risk assessment that answers open alerts
                           (prescribers and therapists)
- /case-reviews/           GET (?patient=), POST {patient, reason} (care managers flag);
                           POST /case-reviews/{id}/record/ (prescribers record; tasks are made)
Totals and bands are computed by the server; a total sent by a client is ignored.
A patient the caller is not on the care team of is a 404; a team member whose role
may not act gets 403.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from careplans import case_reviews
from careplans.api_paging import BoundedCountPagination
from careplans.models import CarePlanTask, CaseReview, CaseReviewStatus, Patient, TaskStatus, TeamRole
from careplans.selectors import patient_for_clinical_use
from clinic.access import Action
from clinic.models import User
from clinic.viewsets import ClinicalViewSet, EnterInErrorAliasMixin
from outcomes import selectors, services
from outcomes.instruments import InstrumentCode, Severity
from outcomes.models import (
    Assessment,
    ContactMethod,
    RiskOutcome,
    RiskPlan,
    SafetyAlert,
    SafetyAlertStatus,
    SafetyFollowUp,
)
from reminders.safety_signals import SafetySource

Choice = serializers.ChoiceField


# --- Assessments ----------------------------------------------------------------------


class ItemAnswerSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    loinc = serializers.CharField(allow_null=True)
    value = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # an API field; the stubs see Field.label


class AssessmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    instrument = Choice(choices=InstrumentCode.choices, read_only=True)
    responses = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    severity = Choice(choices=Severity.choices, read_only=True)
    severity_label = serializers.CharField(read_only=True)
    items = ItemAnswerSerializer(source="item_answers", many=True, read_only=True)
    entered_by = serializers.UUIDField(source="entered_by.public_id", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "patient",
            "instrument",
            "administered_on",
            "responses",
            "total_score",
            "severity",
            "severity_label",
            "safety_item_positive",
            "source",
            "items",
            "entered_by",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Assessment")  # documented as AssessmentRequest
class AssessmentInputSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    instrument = Choice(choices=InstrumentCode.choices)
    responses = serializers.ListField(
        child=serializers.IntegerField(),
        allow_empty=False,
        help_text="One answer per item, in the order printed on the form.",
    )
    administered_on = serializers.DateField(required=False, help_text="Defaults to today.")


class AssessmentViewSet(
    EnterInErrorAliasMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet
):
    """Completed questionnaires (PHQ-9, GAD-7, WSAS), newest first."""

    pagination_class = BoundedCountPagination  # count stops at COUNT_LIMIT (issue 14)
    serializer_class = AssessmentSerializer
    model = Assessment
    write_action = Action.ENTER_ASSESSMENT

    def visible_queryset(self) -> QuerySet[Assessment]:
        return selectors.assessments_visible_to(self.user).order_by("-administered_on", "-created_at", "-id")

    def count_queryset(self) -> QuerySet[Assessment]:
        return self.filter_queryset(selectors.assessments_visible_to(self.user, per_row=False))

    @extend_schema(request=AssessmentInputSerializer, responses={201: AssessmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = AssessmentInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        patient = patient_for_clinical_use(user=self.user, public_id=data["patient"])
        assessment = services.assessment_record(
            patient=patient,
            actor=self.user,
            instrument=data["instrument"],
            responses=data["responses"],
            administered_on=data.get("administered_on") or timezone.localdate(),
        )
        return Response(AssessmentSerializer(assessment).data, status=status.HTTP_201_CREATED)

    def entered_in_error_record(self, record: Assessment, *, actor: User, reason: str) -> None:
        """It stays on record; an alert it raised stays open."""
        services.assessment_enter_in_error(assessment=record, actor=actor, reason=reason)


# --- Outcome summary ------------------------------------------------------------------


class InstrumentOutcomeSerializer(serializers.Serializer):
    baseline = serializers.IntegerField(allow_null=True, help_text="First score of the episode.")
    baseline_on = serializers.DateField(allow_null=True)
    latest = serializers.IntegerField(allow_null=True)
    latest_on = serializers.DateField(allow_null=True)
    change_percent = serializers.FloatField(allow_null=True, help_text="Negative = fewer symptoms.")
    response = serializers.BooleanField(allow_null=True, help_text=">= 50 % reduction from baseline.")
    remission = serializers.BooleanField(allow_null=True, help_text="PHQ-9 < 5, GAD-7 < 5.")
    not_improving = serializers.BooleanField(
        allow_null=True, help_text="< 50 % reduction with the baseline 8+ weeks old (Bao 2015)."
    )
    weeks_in_treatment = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField(help_text="Scores in this episode.")


@extend_schema_serializer(many=False)  # one object keyed by instrument, though the action is `list`
class PatientOutcomesSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {code.value: InstrumentOutcomeSerializer() for code in selectors.SUMMARY_INSTRUMENTS}


def outcome_summary_data(summary: selectors.OutcomeSummary) -> dict[str, Any]:
    baseline, latest, flags = summary.baseline, summary.latest, summary.flags
    return {
        "baseline": baseline.total_score if baseline else None,
        "baseline_on": baseline.administered_on if baseline else None,
        "latest": latest.total_score if latest else None,
        "latest_on": latest.administered_on if latest else None,
        "change_percent": flags.change_percent if flags else None,
        "response": flags.response if flags else None,
        "remission": flags.remission if flags else None,
        "not_improving": flags.not_improving if flags else None,
        "weeks_in_treatment": flags.weeks_in_treatment if flags else None,
        "count": summary.count,
    }


class PatientOutcomesViewSet(ClinicalViewSet):
    """Treat-to-target summary of one patient, per instrument."""

    model = Patient
    pagination_class = None
    filterset_class = None  # the patient is in the URL

    def resolve_parent(self) -> Patient:
        return patient_for_clinical_use(user=self.user, public_id=self.kwargs["patient_public_id"])

    @extend_schema(responses=PatientOutcomesSerializer)
    def list(self, request: Request, patient_public_id: str) -> Response:
        patient = self.resolve_parent()
        summaries = selectors.patient_outcome_summaries(patient=patient)
        data = {code: outcome_summary_data(summary) for code, summary in summaries.items()}
        return Response(PatientOutcomesSerializer(data).data)


# --- Safety alerts and follow-ups --------------------------------------------------------


class SafetyAlertSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    source = Choice(choices=SafetySource.choices, read_only=True, help_text="What raised the alert.")  # type: ignore[assignment]  # a declared field, popped by DRF's metaclass
    source_date = serializers.DateField(read_only=True, help_text="The day of the questionnaire, screener or session.")
    assessment = serializers.UUIDField(
        source="assessment.public_id", read_only=True, allow_null=True, default=None, help_text="phq9_item9: the PHQ-9."
    )
    administered_on = serializers.DateField(
        source="assessment.administered_on",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="phq9_item9 only (kept for v1 clients; use source_date).",
    )
    cssrs_screen = serializers.UUIDField(
        source="cssrs_screen.public_id", read_only=True, allow_null=True, default=None, help_text="cssrs: the screener."
    )
    session = serializers.UUIDField(
        source="session_public_id", read_only=True, allow_null=True, help_text="session_risk: the therapy session."
    )
    high_risk = serializers.BooleanField(read_only=True, help_text="Columbia triage high risk (C-SSRS).")
    status = Choice(choices=SafetyAlertStatus.choices, read_only=True)
    follow_up = serializers.UUIDField(source="follow_up.public_id", read_only=True, allow_null=True, default=None)

    class Meta:
        model = SafetyAlert
        fields = [
            "id",
            "patient",
            "source",
            "source_date",
            "assessment",
            "administered_on",
            "cssrs_screen",
            "session",
            "high_risk",
            "status",
            "raised_at",
            "follow_up",
        ]
        read_only_fields = fields


class SafetyAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicalViewSet):
    """Safety alerts from every source (`source`: PHQ-9 item 9 above 0, a positive C-SSRS screener,
    a risk raised in a therapy session); open until a follow-up is recorded."""

    serializer_class = SafetyAlertSerializer
    model = SafetyAlert

    def visible_queryset(self) -> QuerySet[SafetyAlert]:
        return selectors.safety_alerts_visible_to(self.user)


class SafetyFollowUpSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    format = Choice(choices=ContactMethod.choices, read_only=True)
    outcome = Choice(choices=RiskOutcome.choices, read_only=True)
    plan = Choice(choices=RiskPlan.choices, read_only=True)
    recorded_by = serializers.UUIDField(source="recorded_by.public_id", read_only=True)
    resolved_alerts = serializers.SerializerMethodField()

    class Meta:
        model = SafetyFollowUp
        fields = [
            "id",
            "patient",
            "assessed_on",
            "format",
            "outcome",
            "plan",
            "plan_details",
            "safety_plan_reviewed",
            "recorded_by",
            "created_at",
            "resolved_alerts",
        ]
        read_only_fields = fields

    def get_resolved_alerts(self, obj: SafetyFollowUp) -> list[str]:
        return [str(alert.public_id) for alert in obj.resolved_alerts.all()]


@extend_schema_serializer(component_name="SafetyFollowUp")  # documented as SafetyFollowUpRequest
class SafetyFollowUpInputSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    assessed_on = serializers.DateField(required=False, help_text="Defaults to today.")
    format = Choice(choices=ContactMethod.choices)
    outcome = Choice(choices=RiskOutcome.choices)
    plan = Choice(choices=RiskPlan.choices)
    plan_details = serializers.CharField(max_length=4000)
    safety_plan_reviewed = serializers.BooleanField(
        required=False, default=False, help_text="The patient's safety plan was gone through together."
    )


class SafetyFollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """The structured risk assessment that answers every open safety alert of the patient."""

    serializer_class = SafetyFollowUpSerializer
    model = SafetyFollowUp
    write_action = Action.RECORD_SAFETY_FOLLOW_UP

    def visible_queryset(self) -> QuerySet[SafetyFollowUp]:
        return selectors.safety_follow_ups_visible_to(self.user)

    @extend_schema(request=SafetyFollowUpInputSerializer, responses={201: SafetyFollowUpSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = SafetyFollowUpInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        patient = patient_for_clinical_use(user=self.user, public_id=data.pop("patient"))
        follow_up = services.safety_follow_up_record(patient=patient, actor=self.user, **data)
        return Response(SafetyFollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)


# --- Case reviews -----------------------------------------------------------------------


class CarePlanTaskSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    assigned_role = serializers.CharField(read_only=True, help_text="A care-team role, or empty for anyone.")
    status = Choice(choices=TaskStatus.choices, read_only=True)

    class Meta:
        model = CarePlanTask
        fields = ["id", "description", "assigned_role", "due_date", "status"]
        read_only_fields = fields


class CaseReviewSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    status = Choice(choices=CaseReviewStatus.choices, read_only=True)
    requested_by = serializers.UUIDField(source="requested_by.public_id", read_only=True)
    reviewed_by = serializers.UUIDField(source="reviewed_by.public_id", read_only=True, allow_null=True, default=None)
    tasks = CarePlanTaskSerializer(many=True, read_only=True)

    class Meta:
        model = CaseReview
        fields = [
            "id",
            "patient",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "reviewed_by",
            "reviewed_at",
            "recommendations",
            "tasks",
        ]
        read_only_fields = fields


class CaseReviewFlagSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    reason = serializers.CharField(max_length=500)


class RecommendationSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=500)
    # A plain string (validated below) so the schema keeps one name for the team-role enum.
    assigned_role = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="prescriber, therapist, care_manager, psychiatric_consultant, or empty for anyone.",
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_assigned_role(self, value: str) -> str:
        if value and value not in TeamRole.values:
            raise serializers.ValidationError(f"Use one of: {', '.join(TeamRole.values)}, or leave empty.")
        return value


class CaseReviewRecordSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    recommendations = RecommendationSerializer(many=True, required=False, default=list)


class CaseReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """Psychiatric case review: care managers flag a patient; prescribers record the review."""

    serializer_class = CaseReviewSerializer
    model = CaseReview
    write_action = Action.FLAG_CASE_REVIEW
    action_roles = {"record": Action.RECORD_CASE_REVIEW}

    def visible_queryset(self) -> QuerySet[CaseReview]:
        return case_reviews.case_reviews_visible_to(self.user)

    @extend_schema(request=CaseReviewFlagSerializer, responses={201: CaseReviewSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = CaseReviewFlagSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        patient: Patient = patient_for_clinical_use(user=self.user, public_id=given.validated_data["patient"])
        review = case_reviews.case_review_flag(patient=patient, actor=self.user, reason=given.validated_data["reason"])
        return Response(CaseReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseReviewRecordSerializer, responses={200: CaseReviewSerializer})
    @action(detail=True, methods=["post"])
    def record(self, request: Request, public_id: str) -> Response:
        review = self.get_object()
        given = CaseReviewRecordSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        if review.status != "requested":
            raise serializers.ValidationError({"status": ["This review has already been recorded."]})
        recommendations = [case_reviews.Recommendation(**item) for item in given.validated_data["recommendations"]]
        review = case_reviews.case_review_record(
            patient=review.patient,
            actor=self.user,
            summary=given.validated_data["summary"],
            recommendations=recommendations,
        )
        return Response(
            CaseReviewSerializer(case_reviews.case_review_for(user=self.user, public_id=review.public_id)).data
        )


def register_routes(router: SimpleRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("assessments", AssessmentViewSet, basename="assessment")
    router.register(
        r"patients/(?P<patient_public_id>[0-9a-f-]{36})/outcomes", PatientOutcomesViewSet, basename="patient-outcomes"
    )
    router.register("safety-alerts", SafetyAlertViewSet, basename="safetyalert")
    router.register("safety-follow-ups", SafetyFollowUpViewSet, basename="safetyfollowup")
    router.register("case-reviews", CaseReviewViewSet, basename="casereview")
