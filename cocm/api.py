"""/api/v1/care-minutes/: collaborative-care time entries of the caller's care teams.

- GET  /api/v1/care-minutes/?patient=<id>            the entries (newest first, paginated)
- POST /api/v1/care-minutes/ {patient, day, minutes, activity}   care managers on the team
- GET  /api/v1/care-minutes/{id}/
- POST /api/v1/care-minutes/{id}/entered-in-error/ {reason}      care managers on the team
The monthly codes are the report `cocm_minutes` (/api/v1/reports/cocm_minutes/).
"""

from typing import Any

from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter

from careplans.selectors import patients_on_care_team_of
from clinic.access import Action
from clinic.models import User
from clinic.viewsets import ClinicalViewSet, EnteredInErrorMixin
from cocm import selectors, services
from cocm.models import MAX_MINUTES, Activity, CareMinutes


class _VisiblePatientField(serializers.SlugRelatedField):
    """A patient id in a body: only patients on the caller's care team resolve (AC-3)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="public_id", **kwargs)

    def get_queryset(self) -> Any:
        return patients_on_care_team_of(self.context["request"].user)


class CareMinutesSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = _VisiblePatientField()
    minutes = serializers.IntegerField(min_value=1, max_value=MAX_MINUTES)
    activity = serializers.ChoiceField(choices=Activity.choices)
    logged_by = serializers.UUIDField(source="logged_by.public_id", read_only=True)

    class Meta:
        model = CareMinutes
        fields = ["id", "patient", "day", "minutes", "activity", "logged_by", "created_at"]
        read_only_fields = ["created_at"]


class CareMinutesViewSet(
    EnteredInErrorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet
):
    """Collaborative-care minutes: the care team reads, care managers log."""

    serializer_class = CareMinutesSerializer
    write_action = Action.LOG_CARE_MINUTES
    model = CareMinutes

    def visible_queryset(self) -> Any:
        return selectors.care_minutes_visible_to(self.user)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.instance = services.care_minutes_log(actor=self.user, **serializer.validated_data)

    def entered_in_error_record(self, record: Any, *, actor: User, reason: str) -> None:
        services.care_minutes_enter_in_error(entry=record, actor=actor, reason=reason)


def register_routes(router: SimpleRouter) -> None:
    """Called by clinic/urls.py."""
    router.register("care-minutes", CareMinutesViewSet, basename="careminutes")
