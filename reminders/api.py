"""REST API for the inbox (`/api/v1/reminders/`) and care-team messages
(`/api/v1/patients/{id}/messages/`), DESIGN.md API contract v1.

Reminders: the caller's own inbox only; another user's reminder is a 404. Messages: the
patient's care team reads and writes (404 for everyone else, 403 for a member whose role
may not send). Ids in bodies are checked against what the caller can see (AC-3).
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from careplans import selectors
from careplans.api_paging import BoundedCountPagination
from careplans.models import Patient
from clinic.access import Action
from clinic.viewsets import ClinicalViewSet
from reminders import inbox, team_messages
from reminders.models import Reminder, ReminderKind, ReminderStatus, TeamMessage

STATUS_FILTERS = [*ReminderStatus.values, "open"]


class ReminderSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    patient = serializers.UUIDField(source="patient.public_id", read_only=True, allow_null=True, default=None)
    link = serializers.SerializerMethodField(help_text="Where in the chart the reminder is about.")

    class Meta:
        model = Reminder
        fields = [
            "id",
            "kind",
            "patient",
            "due_date",
            "status",
            "urgent",
            "detail",
            "link",
            "snoozed_until",
            "created_at",
            "sent_at",
            "acknowledged_at",
            "done_at",
        ]
        read_only_fields = fields

    def get_link(self, reminder: Reminder) -> str:
        return inbox.reminder_link(reminder)


class SnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(help_text="The day the reminder comes back (after today, within a year).")


def _choice(params: Any, name: str, allowed: list[str]) -> str | None:
    value = params.get(name)
    if value and value not in allowed:
        raise serializers.ValidationError({name: [f"Choose one of: {', '.join(allowed)}."]})
    return value or None


@extend_schema_view(
    list=extend_schema(
        summary="The caller's own inbox",
        parameters=[
            OpenApiParameter("kind", str, enum=ReminderKind.values),
            OpenApiParameter(
                "status",
                str,
                enum=STATUS_FILTERS,
                description="`open`: not yet acknowledged, snoozed or done (the header badge).",
            ),
        ],
    ),
)
class ReminderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicalViewSet):
    """Reminders addressed to the caller, most urgent then newest first. Any recipient may act on
    their own (no role needed: the reminder resolving for the caller is the check)."""

    pagination_class = BoundedCountPagination  # count stops at COUNT_LIMIT (issue 14)
    serializer_class = ReminderSerializer
    model = Reminder
    clinical = False  # clinic admins receive delivery alarms in the same inbox

    def visible_queryset(self) -> QuerySet[Reminder]:
        rows = inbox.reminders_of(self.user)
        params = self.request.query_params
        kind = _choice(params, "kind", ReminderKind.values)
        if kind:
            rows = rows.filter(kind=kind)
        status = _choice(params, "status", STATUS_FILTERS)
        if status == "open":
            rows = rows.filter(inbox.open_q(timezone.localdate()))
        elif status:
            rows = rows.filter(status=status)
        return rows.order_by("-urgent", "-due_date", "-created_at", "-id")

    @extend_schema(request=None, responses=ReminderSerializer, summary="Acknowledge: seen, will act")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, public_id: str) -> Response:
        reminder = inbox.reminder_acknowledge(reminder=self.get_object(), actor=self.user)
        return Response(self.get_serializer(reminder).data)

    @extend_schema(request=SnoozeSerializer, responses=ReminderSerializer, summary="Snooze until a date")
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, public_id: str) -> Response:
        reminder = self.get_object()
        body = SnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reminder = inbox.reminder_snooze(reminder=reminder, actor=self.user, until=body.validated_data["until"])
        return Response(self.get_serializer(reminder).data)

    @extend_schema(request=None, responses=ReminderSerializer, summary="Mark done")
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, public_id: str) -> Response:
        reminder = inbox.reminder_complete(reminder=self.get_object(), actor=self.user)
        return Response(self.get_serializer(reminder).data)


class TeamMessageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    author = serializers.UUIDField(source="author.public_id", read_only=True)
    author_name = serializers.SerializerMethodField()
    recipient = serializers.UUIDField(
        source="recipient.public_id",
        allow_null=True,
        required=False,
        default=None,
        help_text="A colleague on the care team; empty: the whole team. Not allowed on replies.",
    )
    reply_to = serializers.UUIDField(
        write_only=True, required=False, allow_null=True, help_text="A message on this patient's thread to reply to."
    )
    thread = serializers.UUIDField(
        source="thread.public_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The thread's first message (empty for a first message).",
    )

    class Meta:
        model = TeamMessage
        fields = ["id", "thread", "author", "author_name", "recipient", "reply_to", "body", "created_at"]
        read_only_fields = ["created_at"]

    def get_author_name(self, message: TeamMessage) -> str:
        return message.author.get_full_name() or message.author.username


@extend_schema_view(
    list=extend_schema(summary="The care team's message thread about a patient, oldest first"),
    create=extend_schema(summary="Message a colleague on the team (or the whole team), or reply in a thread"),
)
class TeamMessageViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ClinicalViewSet):
    serializer_class = TeamMessageSerializer
    model = TeamMessage
    write_action = Action.SEND_TEAM_MESSAGE
    filterset_class = None  # the patient is in the URL

    def resolve_parent(self) -> Patient:
        if not hasattr(self, "_patient"):
            self._patient = selectors.patient_for_clinical_use(
                user=self.user, public_id=self.kwargs["patient_public_id"]
            )
        return self._patient

    def visible_queryset(self) -> QuerySet[TeamMessage]:
        return team_messages.team_messages_of(self.resolve_parent()).order_by("created_at", "id")

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        patient = self.resolve_parent()
        data = serializer.validated_data
        recipient = None
        recipient_id = (data.get("recipient") or {}).get("public_id")
        if recipient_id is not None:
            colleagues = team_messages.team_colleagues(patient=patient, actor=self.user)
            recipient = next((user for user in colleagues if user.public_id == recipient_id), None)
            if recipient is None:
                raise DjangoValidationError({"recipient": "Choose a colleague on this patient's care team."})
        reply_to = None
        if data.get("reply_to"):
            reply_to = team_messages.team_messages_of(patient).filter(public_id=data["reply_to"]).first()
            if reply_to is None:
                raise DjangoValidationError({"reply_to": "No such message on this patient's thread."})
        serializer.instance = team_messages.team_message_send(
            patient=patient,
            actor=self.user,
            body=data["body"],
            recipient=recipient,
            reply_to=reply_to,
        )
