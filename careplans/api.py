"""REST API for patients, care teams, care plans and goals (DESIGN.md API contract v1).

Viewsets stay thin: querysets come from selectors (visibility), writes go to
services, and a care-team member whose role may not act gets 403 while
everyone else gets 404.
"""

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import mixins, serializers

from careplans import selectors, services
from careplans.diagnoses import diagnoses_clean
from careplans.models import CarePlan, CareTeamMember, Goal, Patient
from clinic.access import Action
from clinic.models import User
from clinic.viewsets import ClinicalViewSet


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
    filterset_class = None  # the patient list is the patients; search comes with the worklist
    action_roles = {"create": Action.CREATE_PATIENT, "partial_update": Action.EDIT_DEMOGRAPHICS}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self) -> QuerySet[Patient]:
        return selectors.patients_visible_to(self.user)

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


class GoalSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
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
        ]
        read_only_fields = ["version", "status_changed_at"]


class GoalViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """Goals of one care plan."""

    serializer_class = GoalSerializer
    model = Goal
    write_action = Action.EDIT_CARE_PLAN
    filterset_class = None  # the care plan is in the URL

    def resolve_parent(self) -> CarePlan:
        if not hasattr(self, "_care_plan"):
            self._care_plan = selectors.care_plan_for(user=self.user, public_id=self.kwargs["care_plan_public_id"])
        return self._care_plan

    def visible_queryset(self) -> QuerySet[Goal]:
        return selectors.goals_of(self.resolve_parent())

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.goal_create(
            care_plan=self.resolve_parent(), actor=self.user, **serializer.validated_data
        )
