"""REST API for patients, care teams, care plans and goals (DESIGN.md API contract v1).

Viewsets stay thin: querysets come from selectors (visibility), writes go to
services, and a care-team member whose role may not act gets 403 while
everyone else gets 404.
"""

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from careplans import selectors, services
from careplans.api_paging import PatientPagination
from careplans.diagnoses import diagnoses_clean
from careplans.models import (
    RELAPSE_PLAN_FIELDS,
    CarePlan,
    CarePlanVersion,
    CareTeamMember,
    Goal,
    GoalStatusChange,
    Patient,
    PatientStatus,
    RelapsePreventionPlan,
)
from careplans.search import patients_matching
from clinic.access import Action
from clinic.models import User
from clinic.viewsets import ClinicalViewSet, PatientFilter


class PatientSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "preferred_name",
            "phone",
            "email",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is checked again by the service; the validator gives the per-field message.


class PatientListFilter(PatientFilter):
    """`?search=` name (partial, case- and accent-insensitive), MRN or birth date; `?status=`."""

    search = filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Part of a name (any case, accents ignored), an MRN (or its start), or a birth date YYYY-MM-DD.",
    )
    status = filters.ChoiceFilter(choices=PatientStatus.choices)

    def filter_search(self, queryset: QuerySet[Patient], name: str, value: str) -> QuerySet[Patient]:
        return patients_matching(queryset, value)


class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ClinicalViewSet,
):
    """Patients on the caller's care teams; clinic admins see all (demographics only)."""

    serializer_class = PatientSerializer
    model = Patient
    clinical = False  # demographics: clinic admins see every patient's
    filterset_class = PatientListFilter
    pagination_class = PatientPagination  # keyset pages, bounded count (issue 14)
    action_roles = {"create": Action.CREATE_PATIENT, "partial_update": Action.EDIT_DEMOGRAPHICS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self) -> QuerySet[Patient]:
        return selectors.patients_visible_to(self.user)

    def filter_by_patient(self, queryset: QuerySet[Any], patient: Any) -> QuerySet[Any]:
        return queryset.filter(pk=patient.pk)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.patient_create(actor=self.user, **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        assert serializer.instance is not None, "an update: UpdateModelMixin passed get_object()"
        serializer.instance = services.patient_update(
            patient=serializer.instance, actor=self.user, **serializer.validated_data
        )


class CareTeamMemberSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    user = serializers.SlugRelatedField(slug_field="public_id", queryset=User.objects.filter(is_active=True))

    class Meta:
        model = CareTeamMember
        fields = ["id", "user", "role", "started_at", "ended_at"]
        read_only_fields = ["started_at", "ended_at"]


class CareTeamViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ClinicalViewSet):
    """A patient's active care team. DELETE ends a membership; the row stays for the record."""

    serializer_class = CareTeamMemberSerializer
    model = CareTeamMember
    clinical = False  # clinic admins manage care teams
    write_action = Action.MANAGE_CARE_TEAM
    filterset_class = None  # the patient is in the URL
    pagination_class = None

    def resolve_parent(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = selectors.patient_for_demographics(
                user=self.user, public_id=self.kwargs["patient_public_id"]
            )
        return self._patient

    def visible_queryset(self) -> QuerySet[CareTeamMember]:
        return selectors.care_team_of(self.resolve_parent())

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.care_team_member_add(
            patient=self.resolve_parent(), actor=self.user, **serializer.validated_data
        )

    def perform_destroy(self, instance: CareTeamMember) -> None:
        services.care_team_member_end(member=instance, actor=self.user)


class DiagnosisSerializer(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, required=False, max_length=12)
    description = serializers.CharField(allow_blank=True, required=False, max_length=300)


class CarePlanSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.SlugRelatedField(slug_field="public_id", queryset=Patient.objects.none())
    diagnoses = DiagnosisSerializer(many=True, required=False)
    version = serializers.IntegerField(required=False, min_value=1)
    updated_by = serializers.UUIDField(source="updated_by.public_id", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CarePlan
        fields = [
            "id",
            "patient",
            "status",
            "version",
            "summary",
            "diagnoses",
            "review_date",
            "created_at",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # AC-3: a body may only name a patient on the caller's care team.
            patient_field = cast("serializers.SlugRelatedField[Patient]", self.fields["patient"])
            # drf-stubs type `queryset` as QuerySet | Manager; mypy checks Manager's descriptor on assignment.
            patient_field.queryset = selectors.patients_on_care_team_of(request.user)  # type: ignore[arg-type]

    def validate_diagnoses(self, value: list[dict[str, str]]) -> list[dict[str, str]]:
        try:
            return diagnoses_clean([dict(item) for item in value])
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class CarePlanVersionSerializer(serializers.ModelSerializer):
    saved_by = serializers.UUIDField(source="saved_by.public_id", read_only=True, allow_null=True, default=None)
    diagnoses = DiagnosisSerializer(many=True, read_only=True)

    class Meta:
        model = CarePlanVersion
        fields = [
            "version",
            "saved_at",
            "saved_by",
            "restored_from",
            "status",
            "summary",
            "diagnoses",
            "review_date",
            *RELAPSE_PLAN_FIELDS,
        ]
        read_only_fields = fields


class CarePlanRestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The plan's current version, as you read it.")
    from_version = serializers.IntegerField(min_value=1, help_text="The kept version whose text to bring back.")


def _relapse_field(name: str) -> serializers.CharField:
    return serializers.CharField(source=f"relapse_plan.{name}", required=False, allow_blank=True, max_length=5000)


class RelapsePlanSerializer(serializers.ModelSerializer):
    """The relapse-prevention plan, read through its care plan: the two share one `version`."""

    version = serializers.IntegerField(min_value=1, help_text="The care plan's version you read (409 when stale).")
    warning_signs = _relapse_field("warning_signs")
    triggers = _relapse_field("triggers")
    coping_strategies = _relapse_field("coping_strategies")
    people_to_contact = _relapse_field("people_to_contact")
    crisis_steps = _relapse_field("crisis_steps")
    care_plan = serializers.UUIDField(source="public_id", read_only=True)
    updated_at = serializers.DateTimeField(source="relapse_plan.updated_at", read_only=True, default=None)
    updated_by = serializers.UUIDField(
        source="relapse_plan.updated_by.public_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = CarePlan
        fields = ["care_plan", "version", *RELAPSE_PLAN_FIELDS, "updated_at", "updated_by"]


class CarePlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ClinicalViewSet,
):
    """Shared care plans. PATCH must carry the `version` it read; a stale one gets 409."""

    serializer_class = CarePlanSerializer
    model = CarePlan
    write_action = Action.EDIT_CARE_PLAN
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self) -> QuerySet[CarePlan]:
        return selectors.care_plans_visible_to(self.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "relapse_plan":
            return RelapsePlanSerializer
        if self.action == "versions":
            return CarePlanVersionSerializer
        return CarePlanSerializer

    @extend_schema(responses=CarePlanVersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="versions", filterset_class=None)
    def versions(self, request: Request, public_id: str | None = None) -> Response:
        """Every kept version of the plan's text, newest first: who saved it, when, what it said."""
        plan = self.get_object()
        page = self.paginate_queryset(selectors.care_plan_versions(plan))
        return self.get_paginated_response(CarePlanVersionSerializer(page, many=True).data)

    @extend_schema(request=CarePlanRestoreSerializer, responses=CarePlanSerializer, filters=False)
    @action(detail=True, methods=["post"], url_path="restore", filterset_class=None)
    def restore(self, request: Request, public_id: str | None = None) -> Response:
        """Save an old version's text as a new version (`version`: the current one you read; 409 when stale)."""
        plan = self.get_object()
        given = CarePlanRestoreSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        restored = services.care_plan_restore(
            care_plan=plan,
            actor=self.user,
            version=given.validated_data["version"],
            from_version=given.validated_data["from_version"],
        )
        return Response(CarePlanSerializer(restored, context=self.get_serializer_context()).data)

    @extend_schema(methods=["GET"], responses=RelapsePlanSerializer, filters=False)
    @extend_schema(methods=["PATCH"], request=RelapsePlanSerializer, responses=RelapsePlanSerializer, filters=False)
    @action(detail=True, methods=["get", "patch"], url_path="relapse-plan", filterset_class=None)
    def relapse_plan(self, request: Request, public_id: str | None = None) -> Response:
        """The relapse-prevention plan (CLINICAL.md); PATCH must carry the plan's `version` (409 when stale)."""
        plan = self.get_object()
        if request.method == "PATCH":
            given = RelapsePlanSerializer(plan, data=request.data, partial=True)
            given.is_valid(raise_exception=True)
            data = dict(given.validated_data)
            if "version" not in data:
                raise serializers.ValidationError({"version": ["Send the version you read."]})
            plan = services.relapse_plan_update(
                care_plan=plan, actor=self.user, version=data["version"], **data.get("relapse_plan", {})
            )
        if not hasattr(plan, "relapse_plan"):
            RelapsePreventionPlan.objects.get_or_create(care_plan=plan)
            plan = CarePlan.objects.select_related("relapse_plan__updated_by").get(pk=plan.pk)
        return Response(RelapsePlanSerializer(plan).data)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.care_plan_create(actor=self.user, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        assert serializer.instance is not None, "an update: UpdateModelMixin passed get_object()"
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": ["Send the version you read."]})
        if "patient" in data and data.pop("patient") != serializer.instance.patient:
            raise serializers.ValidationError({"patient": ["A care plan cannot move to another patient."]})
        version = data.pop("version")
        serializer.instance = services.care_plan_update(
            care_plan=serializer.instance, actor=self.user, version=version, **data
        )


class GoalStatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.UUIDField(source="changed_by.public_id", read_only=True, allow_null=True, default=None)
    from_status = serializers.CharField(read_only=True, help_text="Empty for the status the goal was created with.")

    class Meta:
        model = GoalStatusChange
        fields = ["from_status", "to_status", "changed_by", "changed_at"]
        read_only_fields = fields


class GoalSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    version = serializers.IntegerField(
        min_value=1, required=False, help_text="PATCH: the version you read (409 when stale); ignored on create."
    )
    status_history = GoalStatusChangeSerializer(many=True, read_only=True)
    status_changed_by = serializers.UUIDField(
        source="status_changed_by.public_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Goal
        fields = [
            "id",
            "domain",
            "description",
            "target",
            "due_date",
            "status",
            "version",
            "status_changed_at",
            "status_changed_by",
            "status_history",
        ]
        read_only_fields = ["status_changed_at"]


class GoalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ClinicalViewSet
):
    """Goals of one care plan. PATCH carries the goal's `version`; status moves only along the
    allowed transitions (STYLE.md rule 7), each kept in `status_history` with who and when."""

    serializer_class = GoalSerializer
    model = Goal
    write_action = Action.EDIT_CARE_PLAN
    filterset_class = None  # the care plan is in the URL
    http_method_names = ["get", "post", "patch", "head", "options"]

    def resolve_parent(self) -> CarePlan:
        if not hasattr(self, "_care_plan"):
            self._care_plan = selectors.care_plan_for(user=self.user, public_id=self.kwargs["care_plan_public_id"])
        return self._care_plan

    def visible_queryset(self) -> QuerySet[Goal]:
        return selectors.goals_with_history_of(self.resolve_parent())

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = services.goal_create(care_plan=self.resolve_parent(), actor=self.user, **data)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        assert serializer.instance is not None, "an update: UpdateModelMixin passed get_object()"
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": ["Send the version you read."]})
        version = data.pop("version")
        goal = services.goal_update(goal=serializer.instance, actor=self.user, version=version, **data)
        serializer.instance = selectors.goals_with_history_of(goal.care_plan).get(pk=goal.pk)  # with its fresh history
