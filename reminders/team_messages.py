"""Care-team messages: how the prescriber and the therapist talk about one patient (issue 3).

Any care-team member may write to one colleague on the team or to the whole team. The
message shows on the chart's Team tab, where the whole team reads the thread (it is part
of the patient's record), and lands in each recipient's inbox as a `team_message`
reminder, written in the same transaction. Replies stay in their thread and reach the
people taking part in it.
"""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from careplans.models import CareTeamMember, Patient
from clinic.audit import audit_denied, audit_record
from clinic.models import AuditAction, User
from reminders.models import ReminderKind, TeamMessage
from reminders.outbox import ReminderDraft, reminders_write

BODY_MAX = 1000
THREADS_SHOWN = 50
# The label of the model's first home, kept: it is part of existing reminders' unique key.
MESSAGE_SUBJECT = "careplans.teammessage"


# --- Selectors ---------------------------------------------------------------------------


def team_colleagues(*, patient: Patient, actor: User) -> list[User]:
    """Active team members the actor can write to (one entry per person, whatever their roles)."""
    members = (
        CareTeamMember.objects.filter(patient=patient, ended_at__isnull=True, user__is_active=True)
        .exclude(user=actor)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    seen: dict[int, User] = {}
    for member in members:
        seen.setdefault(member.user_id, member.user)
    return list(seen.values())


def team_threads(patient: Patient, *, limit: int = THREADS_SHOWN) -> list[TeamMessage]:
    """Threads, most recently active first; each with `thread_replies` in order. Three queries."""
    replies = TeamMessage.objects.select_related("author", "recipient").order_by("created_at", "id")
    return list(
        TeamMessage.objects.filter(patient=patient, thread__isnull=True)
        .select_related("author", "recipient")
        .annotate(last_activity=Coalesce(Max("replies__created_at"), "created_at"))
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="thread_replies"))
        .order_by("-last_activity", "-id")[:limit]
    )


def team_messages_of(patient: Patient) -> QuerySet[TeamMessage]:
    """Every message on the patient's team thread, oldest first (the API list)."""
    return TeamMessage.objects.filter(patient=patient).select_related("author", "recipient", "thread")


def team_message_for(*, user: User, patient: Patient, public_id: UUID | str) -> TeamMessage:
    """A message of this patient, or an audited 404 (a foreign message id is never followed)."""
    try:
        return team_messages_of(patient).get(public_id=public_id)
    except (TeamMessage.DoesNotExist, ValueError, TypeError, ValidationError):
        audit_denied(actor=user, object_type=MESSAGE_SUBJECT, object_id=str(public_id)[:64])
        raise Http404 from None


# --- Services ----------------------------------------------------------------------------


def _thread_participants(thread: TeamMessage) -> set[int]:
    people = {thread.author_id, thread.recipient_id}
    people |= set(thread.replies.values_list("author_id", flat=True))
    return {pk for pk in people if pk is not None}


@transaction.atomic
def team_message_send(
    *, patient: Patient, actor: User, body: str, recipient: User | None = None, reply_to: TeamMessage | None = None
) -> TeamMessage:
    """Post a message (or a reply) and put it in each recipient's inbox.

    The caller has already checked that `actor` is on `patient`'s care team.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"Keep it to {BODY_MAX} characters (it has {len(body)})."})
    team = {user.pk: user for user in team_colleagues(patient=patient, actor=actor)}
    thread = None
    if reply_to is not None:
        if reply_to.patient_id != patient.pk:
            raise ValidationError({"reply_to": "That message is not on this patient's thread."})
        thread = reply_to.thread or reply_to
        if recipient is not None:
            raise ValidationError({"recipient": "A reply goes to the people in its thread."})
        # A whole-team thread answers the whole team; a one-to-one thread its participants.
        to = set(team) if thread.recipient_id is None else _thread_participants(thread) & set(team)
    elif recipient is not None:
        if recipient.pk not in team:
            raise ValidationError({"recipient": "Choose a colleague on this patient's care team."})
        to = {recipient.pk}
    else:
        to = set(team)
    to.discard(actor.pk)
    message = TeamMessage(patient=patient, author=actor, recipient=recipient, thread=thread, body=body)
    message.full_clean()
    message.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=message,
        patient_id=patient.public_id,
        changes={
            "recipient": [None, str(recipient.public_id) if recipient else "team"],
            "thread": [None, str(thread.public_id) if thread else None],
            "body": [None, body],
        },
    )
    sender = actor.get_full_name() or actor.username
    today = timezone.localdate()
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=patient.pk,
            kind=ReminderKind.TEAM_MESSAGE,
            subject_type=MESSAGE_SUBJECT,
            subject_id=str(message.public_id),
            due_date=today,
            detail=f"{'Reply' if thread else 'Message'} from {sender}: {body}"[:300],
        )
        for user_id in sorted(to)
    )
    return message
