"""REST API of the therapy app (DESIGN.md API contract v1): therapy sessions and courses.

Reads: the patient's care team. Writes: therapists only (403 for the rest of the team,
404 for everyone else). `private_note` is write-only for everyone and appears in a
response only for its author: the serializer reads the `own_note` annotation, which
selectors fill with the *requesting* user's note and nobody else's (SECURITY.md PN-1).
"""

from datetime import date
from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from careplans.api_paging import BoundedCountPagination
from careplans.models import Goal, Patient
from careplans.selectors import patient_for_clinical_use
from clinic.access import Action
from clinic.models import User
from clinic.validators import LONG_TEXT_MAX_LENGTH
from clinic.viewsets import ClinicalViewSet, EnterInErrorAliasMixin
from therapy import selectors, services
from therapy.models import (
    Attendance,
    CourseStatus,
    Frequency,
    GoalProgress,
    HomeworkCompletion,
    Modality,
    RiskLevel,
    SessionFormat,
    TherapyCourse,
    TherapySession,
)

THERAPISTS_ONLY = "Only therapists log therapy sessions."


class ModalityCodeField(serializers.CharField):
    """A modality from the catalog, by its code (`CBT`, `DBT`, `IPT`, `family`, ...)."""

    # A DRF field may return any type; the stubs fix CharField's to str.
    def to_internal_value(self, data: Any) -> Modality:  # type: ignore[override]
        code = super().to_internal_value(data)
        modality = selectors.modality_by_code(code)
        if modality is None:
            codes = ", ".join(selectors.modalities().values_list("code", flat=True))
            raise serializers.ValidationError(f"Unknown modality. Use one of: {codes}.")
        return modality

    def to_representation(self, value: Any) -> str:
        return value.code if isinstance(value, Modality) else str(value)


@extend_schema_field({"type": "string", "enum": SessionFormat.values})
class UsualFormatField(serializers.ChoiceField):
    """The course's usual format: the same choices as a session's `format`, described inline so
    the schema has one FormatEnum component rather than two names for one choice set."""


# --- Courses ------------------------------------------------------------------------


class GoalIdsField(serializers.ListField):
    """Goal ids in, goal ids out (the course's linked goals are prefetched by the selector)."""

    def to_representation(self, data: Any) -> list[str]:
        return [str(goal.public_id) for goal in data.all()]


class TherapyCourseSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id")
    therapist = serializers.UUIDField(source="therapist.public_id", read_only=True)
    modality = ModalityCodeField()
    planned_frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    planned_sessions = serializers.IntegerField(min_value=1, max_value=200, required=False)
    usual_duration_minutes = serializers.IntegerField(min_value=5, max_value=480, required=False)
    usual_format = UsualFormatField(choices=SessionFormat.choices, required=False)
    goals = GoalIdsField(
        child=serializers.UUIDField(),
        required=False,
        help_text="Ids of goals on the patient's care plan that this course addresses.",
    )
    status = serializers.ChoiceField(choices=CourseStatus.choices, required=False)
    started_on = serializers.DateField(required=False)
    ended_on = serializers.DateField(read_only=True, allow_null=True)
    sessions_logged = serializers.IntegerField(read_only=True, default=0)
    sessions_attended = serializers.IntegerField(read_only=True, default=0)
    sessions_missed = serializers.IntegerField(read_only=True, default=0)
    last_attended = serializers.DateField(read_only=True, allow_null=True, default=None)
    next_session_due = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_next_session_due(self, course: TherapyCourse) -> date | None:
        if not course.is_open:
            return None
        return course.next_due_after(getattr(course, "last_attended", None) or course.started_on)

    def goals_of(self, patient: Patient, ids: list[Any]) -> list[Goal]:
        goals = list(Goal.objects.filter(care_plan__patient=patient, public_id__in=ids).select_related("care_plan"))
        if len(goals) != len(set(ids)):
            raise serializers.ValidationError({"goals": ["Choose goals from this patient's care plan."]})
        return goals


class TherapyCourseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ClinicalViewSet,
):
    """Courses of psychotherapy. Opening and changing one: therapists only."""

    pagination_class = BoundedCountPagination  # count stops at COUNT_LIMIT (issue 14)
    serializer_class = TherapyCourseSerializer
    model = TherapyCourse
    write_action = Action.LOG_THERAPY_SESSION
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self) -> QuerySet[TherapyCourse]:
        return selectors.courses_visible_to(self.user).order_by("-started_on", "-id")

    def count_queryset(self) -> QuerySet[TherapyCourse]:
        return self.filter_queryset(selectors.courses_visible_to(self.user, per_row=False))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = cast(TherapyCourseSerializer, self.get_serializer(data=request.data))
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        patient = patient_for_clinical_use(user=self.user, public_id=data.pop("patient")["public_id"])
        if data.pop("status", CourseStatus.ACTIVE) != CourseStatus.ACTIVE:
            raise serializers.ValidationError({"status": ["A new course starts active."]})
        data["goals"] = given.goals_of(patient, data.get("goals", []))
        course = services.course_open(patient=patient, actor=self.user, **data)
        output = self.get_serializer(selectors.course_for(user=self.user, public_id=course.public_id))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        course = self.get_object()
        given = cast(TherapyCourseSerializer, self.get_serializer(course, data=request.data, partial=True))
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        if "patient" in data and data.pop("patient")["public_id"] != course.patient.public_id:
            raise serializers.ValidationError({"patient": ["A course cannot move to another patient."]})
        if "modality" in data and data.pop("modality") != course.modality:
            raise serializers.ValidationError({"modality": ["Open a new course to change modality."]})
        if "started_on" in data and data.pop("started_on") != course.started_on:
            raise serializers.ValidationError({"started_on": ["The start date cannot be changed."]})
        if "goals" in data:
            data["goals"] = given.goals_of(course.patient, data["goals"])
        services.course_update(course=course, actor=self.user, **data)
        return Response(self.get_serializer(selectors.course_for(user=self.user, public_id=course.public_id)).data)


# --- Sessions -----------------------------------------------------------------------


class GoalProgressSerializer(serializers.Serializer):
    goal = serializers.UUIDField(source="goal.public_id")
    progress = serializers.ChoiceField(choices=GoalProgress.choices)


REVIEWED = [(value, label) for value, label in HomeworkCompletion.choices if value != HomeworkCompletion.ASSIGNED]


class TherapySessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="course.patient.public_id")
    course = serializers.UUIDField(
        source="course.public_id",
        required=False,
        help_text="Optional: the patient's course for the modality and the logging therapist is used, or opened.",
    )
    modality = ModalityCodeField(
        source="course.modality", required=False, help_text="Catalog code: CBT, DBT, IPT, family, ..."
    )
    session_date = serializers.DateField()
    duration_minutes = serializers.IntegerField(
        min_value=0, max_value=480, required=False, help_text="Defaults to the course's usual duration."
    )
    format = serializers.ChoiceField(choices=SessionFormat.choices, required=False)
    attendance = serializers.ChoiceField(choices=Attendance.choices, required=False)
    summary = serializers.CharField(
        max_length=LONG_TEXT_MAX_LENGTH, allow_blank=True, required=False, help_text="Shared with the care team."
    )
    private_note = serializers.CharField(
        source="own_note",
        max_length=LONG_TEXT_MAX_LENGTH,
        allow_blank=True,
        required=False,
        trim_whitespace=False,
        help_text="Your private process note. Write-only for everyone; present in a response only "
        "for its author, never for colleagues.",
    )
    participants = serializers.CharField(max_length=300, allow_blank=True, required=False)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    risk_note = serializers.CharField(max_length=500, allow_blank=True, required=False)
    goal_progress = GoalProgressSerializer(many=True, required=False)
    homework = serializers.CharField(
        max_length=500, allow_blank=True, required=False, help_text="Homework set in this session."
    )
    last_homework = serializers.ChoiceField(
        choices=REVIEWED,
        required=False,
        allow_null=True,
        help_text="Whether the homework from the last session was done; null when none was reviewed "
        "(on write, null changes nothing, like leaving the field out).",
    )
    therapist = serializers.UUIDField(source="logged_by.public_id", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: TherapySession) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not getattr(instance, "has_own_note", False):
            del data["private_note"]  # absent, not empty: a colleague's note leaves no trace
        assigned = list(instance.homework_assigned.all())
        reviewed = list(instance.homework_reviewed.all())
        data["homework"] = assigned[0].description if assigned else ""
        data["last_homework"] = reviewed[0].completion if reviewed else None
        return data

    def service_fields(self, patient: Patient) -> dict[str, Any]:
        """validated_data, flattened into the services' keyword arguments."""
        data = dict(self.validated_data)
        course = data.pop("course", {})
        data.pop("patient", None)
        if "own_note" in data:
            data["private_note"] = data.pop("own_note")
        if "goal_progress" in data:
            wanted = {row["goal"]["public_id"]: row["progress"] for row in data.pop("goal_progress")}
            goals = {g.public_id: g for g in Goal.objects.filter(care_plan__patient=patient, public_id__in=wanted)}
            if len(goals) != len(wanted):
                raise serializers.ValidationError({"goal_progress": ["Choose goals from this patient's care plan."]})
            data["goal_progress"] = {goals[goal_id]: value for goal_id, value in wanted.items()}
        data["course_public_id"] = course.get("public_id")
        data["modality"] = course.get("modality")
        return data


class TherapySessionViewSet(
    EnterInErrorAliasMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ClinicalViewSet,
):
    """Logged therapy sessions. Reads: the care team. Writes: therapists only."""

    serializer_class = TherapySessionSerializer
    model = TherapySession
    write_action = Action.LOG_THERAPY_SESSION
    patient_field = "course__patient"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def visible_queryset(self) -> QuerySet[TherapySession]:
        return selectors.sessions_visible_to(self.user)

    def _course(self, patient: Patient, public_id: Any) -> TherapyCourse | None:
        if public_id is None:
            return None
        course = TherapyCourse.objects.filter(patient=patient, public_id=public_id).first()
        if course is None:
            raise serializers.ValidationError({"course": ["Not a course of this patient."]})
        return course

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = cast(TherapySessionSerializer, self.get_serializer(data=request.data))
        given.is_valid(raise_exception=True)
        patient = patient_for_clinical_use(
            user=self.user, public_id=given.validated_data["course"]["patient"]["public_id"]
        )
        data = given.service_fields(patient)
        course = self._course(patient, data.pop("course_public_id"))
        if course is None and data.get("modality") is None:
            raise serializers.ValidationError({"modality": ["This field is required (or name the course)."]})
        session = services.session_log_for_patient(patient=patient, actor=self.user, course=course, **data)
        output = self.get_serializer(selectors.session_for(user=self.user, public_id=session.public_id))
        return Response(output.data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        session = self.get_object()
        given = cast(TherapySessionSerializer, self.get_serializer(session, data=request.data, partial=True))
        given.is_valid(raise_exception=True)
        patient = session.course.patient
        data = given.service_fields(patient)
        given_patient = given.validated_data.get("course", {}).get("patient", {}).get("public_id")
        if given_patient is not None and given_patient != patient.public_id:
            raise serializers.ValidationError({"patient": ["A session cannot move to another patient."]})
        course_id = data.pop("course_public_id")
        if course_id is not None and course_id != session.course.public_id:
            raise serializers.ValidationError({"course": ["A session cannot move to another course."]})
        modality = data.pop("modality")
        if modality is not None and modality != session.course.modality:
            raise serializers.ValidationError({"modality": ["A session cannot change modality."]})
        services.session_update(session=session, actor=self.user, **data)
        return Response(self.get_serializer(selectors.session_for(user=self.user, public_id=session.public_id)).data)

    def entered_in_error_record(self, record: TherapySession, *, actor: User, reason: str) -> None:
        """Never deleted: it leaves lists, counts and reminders' scans."""
        services.session_enter_in_error(session=record, actor=actor, reason=reason)


def register_routes(router: SimpleRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("therapy-courses", TherapyCourseViewSet, basename="therapycourse")
    router.register("therapy-sessions", TherapySessionViewSet, basename="therapysession")
