"""`/api/v1/cssrs-screens/`: the C-SSRS Screener through the API (issue 16 item 3), as on the page.

POST records a screener (since-last-contact version, CLINICAL.md b5) through
outcomes.services.cssrs_screen_record: the skip rule (questions 3-5 exactly when question 2 is
yes) and the date are checked there, the Columbia triage is computed there, and any YES opens
the same kind of safety alert as PHQ-9 item 9 or a risk raised in a session (its id is in the
answer; `GET /api/v1/safety-alerts/?patient=` lists it with `source: cssrs`). GET lists and reads
screeners of the caller's patients (audited as every clinical read).
"""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from careplans.selectors import patient_for_clinical_use
from clinic.access import Action
from clinic.viewsets import ClinicalViewSet
from outcomes import services
from outcomes.cssrs import QUESTIONS, CssrsAnswers, CssrsTriage
from outcomes.models import CssrsScreen
from outcomes.selectors import cssrs_screens_visible_to

_ANSWERS = [question.field for question in QUESTIONS]


def _question_help(field: str) -> str:
    question = next(q for q in QUESTIONS if q.field == field)
    asked = " Asked only when question 2 is yes (null otherwise)." if question.only_if_thoughts else ""
    return f"Question {question.number}: {question.text}{asked}"


class CssrsScreenSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True)
    triage = serializers.ChoiceField(
        choices=CssrsTriage.choices, read_only=True, help_text="Columbia triage (CLINICAL.md b5)."
    )
    entered_by = serializers.UUIDField(source="entered_by.public_id", read_only=True)
    safety_alert = serializers.SerializerMethodField(help_text="The safety alert a positive screener opened.")

    class Meta:
        model = CssrsScreen
        fields = ["id", "patient", "screened_on", *_ANSWERS, "triage", "entered_by", "created_at", "safety_alert"]
        read_only_fields = fields

    def get_safety_alert(self, screen: CssrsScreen) -> str | None:
        alert = getattr(screen, "safety_alert", None)
        return str(alert.public_id) if alert is not None else None


class CssrsScreenInputSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    screened_on = serializers.DateField(required=False, help_text="Defaults to today.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for question in QUESTIONS:
            if question.only_if_thoughts:
                fields[question.field] = serializers.BooleanField(
                    required=False, allow_null=True, default=None, help_text=_question_help(question.field)
                )
            else:
                fields[question.field] = serializers.BooleanField(help_text=_question_help(question.field))
        return fields


class CssrsScreenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    """C-SSRS screeners, newest first; a positive one opens a safety alert."""

    serializer_class = CssrsScreenSerializer
    model = CssrsScreen
    write_action = Action.ENTER_ASSESSMENT

    def visible_queryset(self) -> QuerySet[CssrsScreen]:
        return cssrs_screens_visible_to(self.user)

    @extend_schema(request=CssrsScreenInputSerializer, responses={201: CssrsScreenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = CssrsScreenInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        patient = patient_for_clinical_use(user=self.user, public_id=data["patient"])
        screen = services.cssrs_screen_record(
            patient=patient,
            actor=self.user,
            answers=CssrsAnswers(**{field: data[field] for field in _ANSWERS}),
            screened_on=data.get("screened_on") or timezone.localdate(),
        )
        return Response(CssrsScreenSerializer(screen).data, status=status.HTTP_201_CREATED)


def register_routes(router: SimpleRouter) -> None:
    router.register("cssrs-screens", CssrsScreenViewSet, basename="cssrsscreen")
