"""Break-glass in the API (issue 12 item 6).

`POST /api/v1/patients/{id}/break-glass/ {reason}` → 201 opens an emergency access (400 without a
reason; 404 for an unknown patient and for anyone whose role may not break glass: clinic admins).
`GET /api/v1/break-glass/` lists every emergency access for review (clinic admins, `view_audit`).
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, serializers

from careplans import selectors
from careplans.break_glass import REASON_MAX, break_glass_open
from careplans.models import BreakGlassGrant, Patient
from clinic.access import Action, patients_in_scope, visible_or_404
from clinic.viewsets import AdminViewSet, ClinicalViewSet, PatientFilter


class BreakGlassSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    user = serializers.UUIDField(source="user.public_id", read_only=True)
    reason = serializers.CharField(
        max_length=REASON_MAX, help_text="Why emergency access is needed (required; reviewed by the clinic admins)."
    )

    class Meta:
        model = BreakGlassGrant
        fields = ["id", "patient", "user", "reason", "started_at", "expires_at"]
        read_only_fields = ["started_at", "expires_at"]


class BreakGlassViewSet(mixins.CreateModelMixin, ClinicalViewSet):
    """Open an emergency access to a chart you are not on the care team of (lasts `BREAK_GLASS_HOURS`)."""

    serializer_class = BreakGlassSerializer
    model = BreakGlassGrant
    write_action = Action.BREAK_GLASS
    filterset_class = None  # the patient is in the URL
    pagination_class = None
    http_method_names = ["post", "options"]

    def resolve_parent(self) -> Patient:
        if not hasattr(self, "_patient"):
            # The one scope that names a patient off the caller's team: the request for access itself.
            self._patient = visible_or_404(
                patients_in_scope(self.user, scope="break_glass"),
                user=self.user,
                public_id=self.kwargs["patient_public_id"],
            )
        return self._patient

    def visible_queryset(self) -> QuerySet[BreakGlassGrant]:
        return BreakGlassGrant.objects.filter(user=self.user, patient=self.resolve_parent())

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        try:
            serializer.instance = break_glass_open(
                patient=self.resolve_parent(), actor=self.user, reason=serializer.validated_data["reason"]
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None


class BreakGlassReviewSerializer(BreakGlassSerializer):
    patient_name = serializers.CharField(source="patient.display_name", read_only=True)
    patient_mrn = serializers.CharField(source="patient.mrn", read_only=True)
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta(BreakGlassSerializer.Meta):
        fields = [*BreakGlassSerializer.Meta.fields, "patient_name", "patient_mrn", "user_name", "active"]
        read_only_fields = fields


class BreakGlassReviewViewSet(mixins.ListModelMixin, AdminViewSet):
    """Every emergency access, newest first, with its reason, for review (clinic admins).
    `?patient=<uuid>` narrows it to one patient."""

    serializer_class = BreakGlassReviewSerializer
    admin_action = Action.VIEW_AUDIT
    model = BreakGlassGrant
    filter_backends = [DjangoFilterBackend]
    filterset_class = PatientFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return BreakGlassGrant.objects.none()
        return selectors.break_glass_grants_for_review(self.user)
