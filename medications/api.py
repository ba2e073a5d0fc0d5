"""REST API of the medications app (DESIGN.md API contract v1). `register_routes` is
called by clinic/urls.py.

Viewsets stay thin: querysets come from selectors (visibility: a patient off the caller's
care team is a 404), writes go to services, and a care-team member whose role may not act
gets 403 before anything else is looked at.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from careplans.api_paging import BoundedCountPagination
from careplans.models import Patient
from careplans.selectors import patient_for_clinical_use, patients_on_care_team_of
from clinic.access import Action, visible_or_404
from clinic.concurrency import StaleVersionError
from clinic.models import User
from clinic.viewsets import ClinicalViewSet, EnteredInErrorMixin
from medications import injections, selectors, services
from medications.interactions import InteractionWarning, warnings_for_regimens
from medications.models import (
    AdherenceCheck,
    CriticalResult,
    DoseChange,
    DoseReason,
    ExceptionKind,
    Frequency,
    HepaticImpairment,
    Injection,
    LabResult,
    LabTest,
    Medication,
    MonitoringException,
    MonitoringProtocol,
    PatientMedicationProfile,
    PregnancyPotential,
    Regimen,
    RegimenStatus,
    Route,
    SideEffect,
    SmokingStatus,
)


class _VisiblePatientField(serializers.SlugRelatedField):
    """A patient id in a body: only patients on the caller's care team resolve (AC-3)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="public_id", **kwargs)

    def get_queryset(self) -> Any:
        return patients_on_care_team_of(self.context["request"].user)


class _VisibleRegimenField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="public_id", **kwargs)

    def get_queryset(self) -> Any:
        return selectors.regimens_visible_to(self.context["request"].user)


# --- Catalog ----------------------------------------------------------------------------------


class MedicationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    monitoring_protocol: "serializers.SlugRelatedField[MonitoringProtocol]" = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True, help_text="Null when the drug has no monitoring protocol."
    )
    level_test = serializers.CharField(read_only=True, help_text="The lab test that measures this drug's level.")
    properties: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="kind",
        many=True,
        read_only=True,
        help_text="What the interaction rules combine (serotonergic, qt_known, cyp3a4_inhibitor_strong, ...).",
    )

    class Meta:
        model = Medication
        fields = [
            "id",
            "name",
            "drug_class",
            "unit",
            "max_daily_dose",
            "monitoring_protocol",
            "max_dose_source",
            "level_test",
            "target_level_low",
            "target_level_high",
            "properties",
            "washout_days",
        ]
        read_only_fields = fields


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("name", str, description="Part of the name")]))
class MedicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicalViewSet):
    """The medication catalog (any clinician; a clinic admin edits it in the Django admin: 403 here)."""

    serializer_class = MedicationSerializer
    model = Medication
    clinical = False  # no patient in it
    filterset_class = None
    action_roles = {"list": Action.VIEW_CLINICAL, "retrieve": Action.VIEW_CLINICAL}

    def visible_queryset(self) -> QuerySet[Medication]:
        return selectors.medication_catalog(name=self.request.query_params.get("name", ""))


# --- Regimens -------------------------------------------------------------------------------------


class InteractionWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The rule's stable code: acknowledge it by this.")
    drugs = serializers.CharField()
    drug = serializers.CharField()
    other_drug = serializers.CharField(help_text="Empty for a warning about the patient (pregnancy, smoking).")
    other_regimen = serializers.UUIDField(allow_null=True)
    severity = serializers.ChoiceField(choices=["contraindicated", "major", "moderate"])
    risk = serializers.CharField()
    mechanism = serializers.CharField()
    action = serializers.CharField(help_text="avoid, reduce, adjust or monitor; `advice` says how.")
    advice = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # an API field; the stubs see Field.source
    message = serializers.CharField()
    washout_days_left = serializers.IntegerField(
        allow_null=True, help_text="The other drug was stopped: days of its washout window still to run."
    )


class AcknowledgementSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    drugs = serializers.CharField()
    by = serializers.UUIDField(source="acknowledged_by.public_id")
    by_name = serializers.CharField(source="acknowledged_by.get_full_name")
    at = serializers.DateTimeField(source="acknowledged_at")
    reason = serializers.CharField()


class WarningsRefusedSerializer(serializers.Serializer):
    """A 400: field errors keyed by field (like every 400), and `warnings` when a contraindicated
    or major interaction was not acknowledged."""

    warnings = InteractionWarningSerializer(many=True, required=False)
    # A list of messages, or per item {index: [messages]} when one code is malformed (DRF ListField).
    acknowledged_warnings = serializers.JSONField(required=False)
    acknowledgement_reason = serializers.ListField(child=serializers.CharField(), required=False)


def _acknowledgement_fields() -> dict[str, serializers.Field]:
    return {
        "acknowledged_warnings": serializers.ListField(
            child=serializers.SlugField(max_length=60),
            write_only=True,
            required=False,
            help_text="Codes of the contraindicated or major warnings you go ahead despite.",
        ),
        "acknowledgement_reason": serializers.CharField(
            write_only=True, required=False, allow_blank=True, max_length=500, help_text="Why (required with codes)."
        ),
    }


def warnings_refused(error: services.AcknowledgementRequired) -> Response:
    """400 with the warnings to acknowledge and what is missing (DESIGN.md API contract)."""
    body: dict[str, Any] = {"warnings": [w.as_dict() for w in error.warnings]}
    body.update(error.message_dict)
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def warnings_body(warnings: list[InteractionWarning]) -> list[dict[str, Any]]:
    return [w.as_dict() for w in warnings]


class SafetyNoteSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # an API field; the stubs see Field.source


class RegimenSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    medication = serializers.SlugRelatedField(
        slug_field="public_id", queryset=Medication.objects.filter(is_active=True)
    )
    medication_name = serializers.CharField(source="medication.name", read_only=True)
    dose = serializers.DecimalField(max_digits=9, decimal_places=3)
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=8,
        help_text="Defaults to the catalog's unit; any other is refused.",
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    route = serializers.ChoiceField(choices=Route.choices, default=Route.ORAL)
    target_dose = serializers.DecimalField(max_digits=9, decimal_places=3, required=False, allow_null=True)
    override_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Required when the daily dose exceeds the usual maximum.",
    )
    max_doses_per_day = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=24, help_text="Required for `as_needed` (PRN)."
    )
    prescriber = serializers.UUIDField(source="prescriber.public_id", read_only=True)
    daily_dose = serializers.DecimalField(
        max_digits=10, decimal_places=3, read_only=True, allow_null=True, help_text="None for an injection."
    )
    warnings = serializers.SerializerMethodField()
    acknowledgements = AcknowledgementSerializer(many=True, read_only=True)
    acknowledged_warnings, acknowledgement_reason = _acknowledgement_fields().values()
    safety_notes = serializers.SerializerMethodField(
        help_text="Notes the regimen carries on its own, e.g. clozapine re-titration after a gap."
    )

    class Meta:
        model = Regimen
        fields = [
            "id",
            "patient",
            "medication",
            "medication_name",
            "dose",
            "unit",
            "frequency",
            "daily_dose",
            "max_doses_per_day",
            "route",
            "start_date",
            "indication",
            "target_dose",
            "target_level_low",
            "target_level_high",
            "status",
            "status_reason",
            "stopped_on",
            "version",
            "prescriber",
            "override_reason",
            "acknowledged_warnings",
            "acknowledgement_reason",
            "warnings",
            "acknowledgements",
            "safety_notes",
            "created_at",
        ]
        read_only_fields = ["status", "status_reason", "stopped_on", "version", "created_at"]

    @extend_schema_field(SafetyNoteSerializer(many=True))
    def get_safety_notes(self, obj: Regimen) -> list[dict[str, str]]:
        return [note.__dict__ for note in selectors.regimen_safety_notes(obj)]

    @extend_schema_field(InteractionWarningSerializer(many=True))
    def get_warnings(self, obj: Regimen) -> list[dict[str, Any]]:
        warnings_map = self.context.get("warnings")
        if warnings_map is None:
            warnings_map = warnings_for_regimens([obj])
        return [warning.as_dict() for warning in warnings_map.get(obj.pk, [])]


class RegimenStatusSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a stale one answers 409."
    )


class RegimenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """Regimens of patients on the caller's care teams; prescribers start, pause, resume and stop them."""

    serializer_class = RegimenSerializer
    model = Regimen
    pagination_class = BoundedCountPagination  # count stops at COUNT_LIMIT (issue 14)
    write_action = Action.PRESCRIBE

    def visible_queryset(self) -> QuerySet[Regimen]:
        return selectors.regimens_visible_to(self.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None, "DEFAULT_PAGINATION_CLASS is set"
        context = {**self.get_serializer_context(), "warnings": warnings_for_regimens(page)}
        return self.get_paginated_response(RegimenSerializer(page, many=True, context=context).data)

    @extend_schema(responses={201: RegimenSerializer, 400: WarningsRefusedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a regimen. A contraindicated or major warning answers 400 with `warnings` unless
        the body acknowledges each code (`acknowledged_warnings`) with an `acknowledgement_reason`."""
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            regimen = services.regimen_start(actor=self.user, **given.validated_data)
        except services.AcknowledgementRequired as error:
            return warnings_refused(error)
        regimen = selectors.regimen_for(user=self.user, public_id=regimen.public_id)
        return Response(self.get_serializer(regimen).data, status=status.HTTP_201_CREATED)

    def _status(self, request: Request, new_status: str) -> Response:
        regimen = self.get_object()
        given = RegimenStatusSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        regimen = services.regimen_status_change(
            regimen=regimen,
            status=new_status,
            actor=self.user,
            reason=given.validated_data.get("reason", ""),
            version=given.validated_data.get("version"),
        )
        return Response(self.get_serializer(regimen).data)

    @extend_schema(request=RegimenStatusSerializer, responses=RegimenSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, public_id: str) -> Response:
        """Pause with a reason (e.g. admitted, pregnancy test pending)."""
        return self._status(request, RegimenStatus.PAUSED)

    @extend_schema(request=RegimenStatusSerializer, responses=RegimenSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, public_id: str) -> Response:
        return self._status(request, RegimenStatus.ACTIVE)

    @extend_schema(request=RegimenStatusSerializer, responses=RegimenSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, public_id: str) -> Response:
        """Stop with a reason. A stopped regimen stays in the history."""
        return self._status(request, RegimenStatus.STOPPED)


# --- Dose changes ----------------------------------------------------------------------------


SETTABLE_DOSE_REASONS = [c for c in DoseReason.choices if c[0] != DoseReason.START]


class DoseReasonField(serializers.ChoiceField):
    """A dose change's reason code: a caller picks any but "start", which only the regimen's first
    row carries (written by the regimen start) and which responses therefore do contain."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=SETTABLE_DOSE_REASONS, **kwargs)


class DoseReasonFieldSchema(OpenApiSerializerFieldExtension):
    """Request schema: the settable codes (ReasonCodeEnum); response schema: every code (DoseReasonEnum)."""

    target_class = DoseReasonField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        if direction == "response":
            field = serializers.ChoiceField(choices=DoseReason.choices, allow_blank=self.target.allow_blank)
        return auto_schema._map_serializer_field(field, direction, bypass_extensions=True)


class DoseChangeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    dose = serializers.DecimalField(max_digits=9, decimal_places=3)
    reason = serializers.CharField(max_length=500)
    reason_code = DoseReasonField(required=False, allow_blank=True)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    effective_on = serializers.DateField(required=False, help_text="Defaults to today.")
    unit = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=8)
    version = serializers.IntegerField(
        write_only=True, required=False, min_value=1, help_text="The regimen version you read; a stale one answers 409."
    )
    changed_by = serializers.UUIDField(source="changed_by.public_id", read_only=True)
    acknowledged_warnings, acknowledgement_reason = _acknowledgement_fields().values()

    class Meta:
        model = DoseChange
        fields = [
            "id",
            "previous_dose",
            "dose",
            "reason",
            "reason_code",
            "override_reason",
            "effective_on",
            "unit",
            "version",
            "acknowledged_warnings",
            "acknowledgement_reason",
            "changed_by",
            "changed_at",
        ]
        read_only_fields = ["previous_dose", "changed_at"]

    def to_representation(self, instance: DoseChange) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.reason_code == DoseReason.START:
            data["reason_code"] = DoseReason.START
        return data


class DoseChangeViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """A regimen's dose history, oldest first (entries made in error left out). Prescribers add to it."""

    serializer_class = DoseChangeSerializer
    model = DoseChange
    write_action = Action.PRESCRIBE
    filterset_class = None  # nested under one regimen: the patient is in the URL

    def resolve_parent(self) -> Regimen:
        if not hasattr(self, "_regimen"):
            self._regimen = selectors.regimen_for(user=self.user, public_id=self.kwargs["regimen_public_id"])
        return self._regimen

    def visible_queryset(self) -> QuerySet[DoseChange]:
        return selectors.dose_history(self.resolve_parent())

    @extend_schema(
        responses={
            201: DoseChangeSerializer,
            400: WarningsRefusedSerializer,
            409: inline_serializer(
                "StaleRegimen",
                {"detail": serializers.CharField(), "code": serializers.CharField(), "current": RegimenSerializer()},
            ),
        }
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        regimen = self.resolve_parent()
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            change = services.dose_change_record(regimen=regimen, actor=self.user, **given.validated_data)
        except StaleVersionError as error:
            current = RegimenSerializer(error.current, context=self.get_serializer_context()).data
            return Response(
                {"detail": str(error), "code": "stale_version", "current": current}, status=status.HTTP_409_CONFLICT
            )
        except services.AcknowledgementRequired as error:
            return warnings_refused(error)
        return Response(self.get_serializer(change).data, status=status.HTTP_201_CREATED)


# --- Side effects, adherence, lab results -----------------------------------------------------


class _PatientRecordViewSet(
    EnteredInErrorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet
):
    """Side effects, adherence checks and lab results: recorded by the team roles the matrix names."""

    def entered_in_error_record(self, record: Any, *, actor: User, reason: str) -> None:
        services.record_enter_in_error(record=record, actor=actor, reason=reason)


class SideEffectSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    regimen = _VisibleRegimenField(required=False, allow_null=True)
    recorded_by = serializers.UUIDField(source="recorded_by.public_id", read_only=True)

    class Meta:
        model = SideEffect
        fields = [
            "id",
            "patient",
            "regimen",
            "effect",
            "severity",
            "onset",
            "action_taken",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class SideEffectViewSet(_PatientRecordViewSet):
    """Side effects (any care-team member records them)."""

    serializer_class = SideEffectSerializer
    write_action = Action.RECORD_SIDE_EFFECT
    model = SideEffect

    def visible_queryset(self) -> Any:
        return selectors.side_effects_visible_to(self.user)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.side_effect_record(actor=self.user, **serializer.validated_data)


class AdherenceCheckSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    regimen = _VisibleRegimenField(required=False, allow_null=True)
    percent = serializers.IntegerField(min_value=0, max_value=100)
    recorded_by = serializers.UUIDField(source="recorded_by.public_id", read_only=True)

    class Meta:
        model = AdherenceCheck
        fields = [
            "id",
            "patient",
            "regimen",
            "checked_on",
            "method",
            "percent",
            "barriers",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class AdherenceCheckViewSet(_PatientRecordViewSet):
    """Adherence checks (any care-team member records them)."""

    serializer_class = AdherenceCheckSerializer
    write_action = Action.RECORD_ADHERENCE
    model = AdherenceCheck

    def visible_queryset(self) -> Any:
        return selectors.adherence_checks_visible_to(self.user)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.adherence_check_record(actor=self.user, **serializer.validated_data)


class LabFlagSerializer(serializers.Serializer):
    level = serializers.CharField()
    text = serializers.CharField()


class LabResultSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    regimen = _VisibleRegimenField(required=False, allow_null=True)
    test = serializers.ChoiceField(choices=LabTest.choices)
    value = serializers.DecimalField(max_digits=10, decimal_places=3)
    unit = serializers.CharField(
        required=False, allow_blank=True, max_length=16, help_text="Defaults to the test's unit; any other is refused."
    )
    flag = serializers.SerializerMethodField()
    recorded_by = serializers.UUIDField(source="recorded_by.public_id", read_only=True)

    class Meta:
        model = LabResult
        fields = [
            "id",
            "patient",
            "regimen",
            "test",
            "value",
            "unit",
            "taken_on",
            "comment",
            "flag",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    @extend_schema_field(LabFlagSerializer(allow_null=True))
    def get_flag(self, obj: LabResult) -> dict[str, str] | None:
        flags = self.context.get("flags")
        if flags is None:
            flags = selectors.lab_flags(
                [obj], list(Regimen.objects.filter(patient_id=obj.patient_id).select_related("medication"))
            )
        flag = flags.get(obj.pk)
        return {"level": flag.level, "text": flag.text} if flag else None


class LabResultViewSet(_PatientRecordViewSet):
    """Lab results; out-of-range values carry a `flag` (lithium vs the patient's target, ANC bands)."""

    serializer_class = LabResultSerializer
    write_action = Action.RECORD_LAB_RESULT
    model = LabResult
    pagination_class = BoundedCountPagination  # count stops at COUNT_LIMIT (issue 14)

    def visible_queryset(self) -> Any:
        return selectors.lab_results_visible_to(self.user)

    def count_queryset(self) -> QuerySet[LabResult]:
        return self.filter_queryset(selectors.lab_results_visible_to(self.user, per_row=False))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None, "DEFAULT_PAGINATION_CLASS is set"
        regimens = list(
            Regimen.objects.filter(patient_id__in={r.patient_id for r in page}).select_related("medication")
        )
        context = {**self.get_serializer_context(), "flags": selectors.lab_flags(page, regimens)}
        return self.get_paginated_response(LabResultSerializer(page, many=True, context=context).data)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.lab_result_record(actor=self.user, **serializer.validated_data)


# --- Monitoring ---------------------------------------------------------------------------------


class MonitoringItemSerializer(serializers.Serializer):
    test = serializers.CharField(source="item.test")
    test_label = serializers.CharField()
    due_date = serializers.DateField(source="item.due_date")
    status = serializers.ChoiceField(choices=["due", "overdue", "done", "waived"], source="item.status")
    regimen = serializers.UUIDField(source="regimen.public_id")
    medication = serializers.CharField(source="regimen.medication.name")
    label = serializers.CharField(source="item.label")  # type: ignore[assignment]  # an API field; the stubs see Field.label
    done_on = serializers.DateField(source="item.done_on", allow_null=True)
    last_done_on = serializers.DateField(source="item.last_done_on", allow_null=True)
    note = serializers.CharField(source="item.note")


class MonitoringViewSet(ClinicalViewSet):
    """What each active regimen's protocol asks for: due, overdue or done, computed from the
    protocol, the regimen's start and dose changes, and the patient's lab results."""

    serializer_class = MonitoringItemSerializer
    model = Patient
    pagination_class = None
    filterset_class = None  # the patient is in the URL

    def resolve_parent(self) -> Patient:
        return patient_for_clinical_use(user=self.user, public_id=self.kwargs["patient_public_id"])

    def list(self, request: Request, patient_public_id: str) -> Response:
        patient = self.resolve_parent()
        rows = selectors.monitoring_for_patient(patient=patient, today=timezone.localdate())
        return Response(MonitoringItemSerializer(rows, many=True).data)


# --- Prescribing profile -------------------------------------------------------------------------


@extend_schema_serializer(many=False)  # one profile per patient, though the action is `list`
class PrescribingProfileSerializer(serializers.Serializer):
    smoking_status = serializers.ChoiceField(choices=SmokingStatus.choices, required=False)
    hepatic_impairment = serializers.ChoiceField(choices=HepaticImpairment.choices, required=False)
    pregnancy_potential = serializers.ChoiceField(choices=PregnancyPotential.choices, required=False)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    warnings = InteractionWarningSerializer(many=True, read_only=True)


class PrescribingProfileViewSet(ClinicalViewSet):
    """Smoking status, hepatic impairment and pregnancy potential: what the dose limits and the
    CYP1A2 smoking warning read. PATCH answers with `warnings` when smoking status changes."""

    serializer_class = PrescribingProfileSerializer
    model = Patient
    pagination_class = None
    filterset_class = None  # the patient is in the URL
    action_roles = {"update_profile": Action.RECORD_LAB_RESULT}  # any clinician on the team

    def resolve_parent(self) -> Patient:
        return patient_for_clinical_use(user=self.user, public_id=self.kwargs["patient_public_id"])

    @classmethod
    def as_view(cls, actions: dict[str, Any] | None = None, **initkwargs: Any) -> Any:
        # One profile per patient: GET and PATCH on the collection URL (the router maps only GET).
        return super().as_view({**(actions or {}), "patch": "update_profile"}, **initkwargs)

    def _body(self, profile: Any, warnings: list[InteractionWarning]) -> dict[str, Any]:
        return {
            "smoking_status": profile.smoking_status,
            "hepatic_impairment": profile.hepatic_impairment,
            "pregnancy_potential": profile.pregnancy_potential,
            "updated_at": profile.updated_at if profile.pk else None,
            "warnings": warnings_body(warnings),
        }

    def list(self, request: Request, patient_public_id: str) -> Response:
        patient = self.resolve_parent()
        return Response(self._body(selectors.prescribing_profile(patient=patient), []))

    @extend_schema(request=PrescribingProfileSerializer, responses=PrescribingProfileSerializer)
    def update_profile(self, request: Request, patient_public_id: str) -> Response:
        patient = self.resolve_parent()
        given = PrescribingProfileSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        profile, warnings = services.prescribing_profile_update(
            patient=patient, actor=self.user, **given.validated_data
        )
        return Response(self._body(profile, warnings))


# --- Critical results, monitoring exceptions, injections (issue 11) ------------------------------


class CriticalResultSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    lab_result = serializers.UUIDField(source="lab_result.public_id", read_only=True)
    test = serializers.CharField(source="lab_result.test", read_only=True)
    value = serializers.DecimalField(source="lab_result.value", max_digits=10, decimal_places=3, read_only=True)
    taken_on = serializers.DateField(source="lab_result.taken_on", read_only=True)
    actioned_by = serializers.UUIDField(source="actioned_by.public_id", read_only=True, allow_null=True)

    class Meta:
        model = CriticalResult
        fields = [
            "id",
            "patient",
            "lab_result",
            "test",
            "value",
            "taken_on",
            "code",
            "severity",
            "message",
            "source",
            "status",
            "raised_at",
            "action_taken",
            "actioned_by",
            "actioned_at",
        ]
        read_only_fields = fields


class CriticalActionSerializer(serializers.Serializer):
    action_taken = serializers.CharField(max_length=2000)


class CriticalResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicalViewSet):
    """Critical lab results of the caller's patients (`?patient=`); a prescriber records the action
    taken, which closes the chart banner."""

    serializer_class = CriticalResultSerializer
    model = CriticalResult
    action_roles = {"action_taken": Action.PRESCRIBE}  # noqa: RUF012

    def visible_queryset(self) -> Any:
        return selectors.critical_results_visible_to(self.user)

    @extend_schema(request=CriticalActionSerializer, responses=CriticalResultSerializer)
    @action(detail=True, methods=["post"], url_path="action-taken")
    def action_taken(self, request: Request, public_id: str) -> Response:
        given = CriticalActionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        alert = services.critical_result_action_record(
            critical_result=self.get_object(), actor=self.user, action_taken=given.validated_data["action_taken"]
        )
        return Response(CriticalResultSerializer(alert).data)


class MonitoringExceptionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    regimen = _VisibleRegimenField()
    test = serializers.ChoiceField(choices=LabTest.choices)
    kind = serializers.ChoiceField(choices=ExceptionKind.choices)
    done_on = serializers.DateField(required=False, allow_null=True, help_text="Done elsewhere: when.")
    reason = serializers.CharField(max_length=300, help_text="Done elsewhere: where. Waived: why.")
    recorded_by = serializers.UUIDField(source="recorded_by.public_id", read_only=True)

    class Meta:
        model = MonitoringException
        fields = ["id", "patient", "regimen", "test", "kind", "done_on", "due_date", "reason", "recorded_by"]
        read_only_fields = ["due_date"]


class MonitoringExceptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet
):
    """A monitoring test done elsewhere (date, where) or waived (why): prescribers record them;
    the monitoring endpoint then shows the item as `done` or `waived`."""

    serializer_class = MonitoringExceptionSerializer
    model = MonitoringException
    write_action = Action.PRESCRIBE

    def visible_queryset(self) -> Any:
        return selectors.monitoring_exceptions_visible_to(self.user)

    def resolve_parent(self) -> Any:
        # The patient named in the body, like a URL id: an outsider gets 404 before the role check.
        if self.action == "create":
            body: Any = self.request.data
            return visible_or_404(self.visible_patients(), user=self.user, public_id=body.get("patient"))
        return None

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.monitoring_exception_record(actor=self.user, **serializer.validated_data)


class InjectionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    dose = serializers.DecimalField(max_digits=9, decimal_places=3, required=False, help_text="Default: prescribed.")
    observation_completed = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text="Olanzapine pamoate: the 3-hour observation."
    )
    given_by = serializers.UUIDField(source="given_by.public_id", read_only=True)
    next_due = serializers.SerializerMethodField()

    class Meta:
        model = Injection
        fields = ["id", "given_on", "dose", "site", "observation_completed", "comment", "given_by", "next_due"]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_due(self, obj: Injection) -> Any:
        regimen = obj.regimen
        return injections.next_injection_due(
            frequency=regimen.frequency, start_date=regimen.start_date, given=[obj.given_on]
        )


class InjectionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """A long-acting injectable regimen's injections, oldest first; prescribers record them."""

    serializer_class = InjectionSerializer
    model = Injection
    write_action = Action.PRESCRIBE
    filterset_class = None

    def resolve_parent(self) -> Regimen:
        if not hasattr(self, "_regimen"):
            self._regimen = selectors.regimen_for(user=self.user, public_id=self.kwargs["regimen_public_id"])
        return self._regimen

    def visible_queryset(self) -> Any:
        return selectors.injections_visible_to(self.user).filter(regimen=self.resolve_parent()).order_by("given_on")

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.injection_record(
            regimen=self.resolve_parent(), actor=self.user, **serializer.validated_data
        )


@extend_schema_serializer(many=False)  # one profile per patient, though the action is `list`
class MedicationProfileSerializer(serializers.Serializer):
    benign_ethnic_neutropenia = serializers.BooleanField(
        help_text="Documented benign ethnic neutropenia: clozapine uses the BEN ANC bands."
    )
    hla_b1502_risk_ancestry = serializers.BooleanField(
        help_text="Ancestry at risk for HLA-B*1502: genotype before carbamazepine."
    )


class MedicationProfileViewSet(ClinicalViewSet):
    """The patient's medication safety profile (BEN, HLA-B*1502 risk ancestry): the care team
    reads it, prescribers set it with POST (the whole profile)."""

    serializer_class = MedicationProfileSerializer
    model = PatientMedicationProfile
    pagination_class = None
    filterset_class = None
    write_action = Action.PRESCRIBE

    def resolve_parent(self) -> Any:
        if not hasattr(self, "_patient"):
            self._patient = visible_or_404(
                self.visible_patients(), user=self.user, public_id=self.kwargs["patient_public_id"]
            )
        return self._patient

    def _data(self) -> dict[str, bool]:
        profile = selectors.medication_profile_of(self.resolve_parent())
        return {
            "benign_ethnic_neutropenia": bool(profile and profile.benign_ethnic_neutropenia),
            "hla_b1502_risk_ancestry": bool(profile and profile.hla_b1502_risk_ancestry),
        }

    @extend_schema(responses=MedicationProfileSerializer)
    def list(self, request: Request, patient_public_id: str) -> Response:
        return Response(self._data())

    @extend_schema(request=MedicationProfileSerializer, responses=MedicationProfileSerializer)
    def create(self, request: Request, patient_public_id: str) -> Response:
        given = MedicationProfileSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.medication_profile_update(patient=self.resolve_parent(), actor=self.user, **given.validated_data)
        return Response(self._data())


def register_routes(router: SimpleRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("medications", MedicationViewSet, basename="medication")
    router.register("regimens", RegimenViewSet, basename="regimen")
    router.register(
        r"regimens/(?P<regimen_public_id>[0-9a-f-]{36})/dose-changes", DoseChangeViewSet, basename="dosechange"
    )
    router.register("lab-results", LabResultViewSet, basename="labresult")
    router.register("side-effects", SideEffectViewSet, basename="sideeffect")
    router.register("adherence-checks", AdherenceCheckViewSet, basename="adherencecheck")
    router.register(
        r"patients/(?P<patient_public_id>[0-9a-f-]{36})/monitoring", MonitoringViewSet, basename="monitoring"
    )
    router.register(
        r"patients/(?P<patient_public_id>[0-9a-f-]{36})/prescribing-profile",
        PrescribingProfileViewSet,
        basename="prescribingprofile",
    )
    router.register("critical-results", CriticalResultViewSet, basename="criticalresult")
    router.register(
        r"patients/(?P<patient_public_id>[0-9a-f-]{36})/medication-profile",
        MedicationProfileViewSet,
        basename="medicationprofile",
    )
    router.register("monitoring-exceptions", MonitoringExceptionViewSet, basename="monitoringexception")
    router.register(r"regimens/(?P<regimen_public_id>[0-9a-f-]{36})/injections", InjectionViewSet, basename="injection")
