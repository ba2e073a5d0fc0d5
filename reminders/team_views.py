"""The chart's Team tab: the care team's message thread about one patient (issue 3).

Reading needs care-team membership (chart_context: 404 otherwise); writing needs
Action.SEND_TEAM_MESSAGE (403 otherwise, and no form is shown).
"""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from careplans.chart import chart_context
from careplans.models import Patient
from clinic.access import Action, AuthenticatedRequest, clinical_page, require, user_can
from clinic.models import User
from reminders import team_messages


class TeamMessageForm(forms.Form):
    recipient = forms.ChoiceField(label="To", required=False)
    body = forms.CharField(
        label="Message",
        max_length=team_messages.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Short and specific, e.g. \u201cdid sleep worsen after the increase?\u201d",
    )

    def __init__(self, *args: Any, colleagues: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.colleagues = {str(user.public_id): user for user in colleagues}
        cast(forms.ChoiceField, self.fields["recipient"]).choices = [("", "The whole care team")] + [
            (key, user.get_full_name() or user.username) for key, user in self.colleagues.items()
        ]

    def clean_recipient(self) -> User | None:
        key = self.cleaned_data.get("recipient") or ""
        return self.colleagues.get(key) if key else None


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", max_length=team_messages.BODY_MAX, widget=forms.Textarea(attrs={"rows": 2}))


def _render(
    request: AuthenticatedRequest,
    context: dict[str, Any],
    form: TeamMessageForm,
    reply_errors: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    patient: Patient = context["patient"]
    threads = team_messages.team_threads(patient)
    for thread in threads:
        thread.reply_form = (reply_errors or {}).get(str(thread.public_id))  # type: ignore[attr-defined]
    context |= {"threads": threads, "form": form, "can_send": user_can(request.user, Action.SEND_TEAM_MESSAGE)}
    return render(request, "reminders/team_thread.html", context, status=status)


@clinical_page(methods=["GET", "POST"])
def team_thread(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="team")
    patient = context["patient"]
    colleagues = team_messages.team_colleagues(patient=patient, actor=request.user)
    form = TeamMessageForm(request.POST or None, colleagues=colleagues)
    if request.method == "POST":
        require(request.user, Action.SEND_TEAM_MESSAGE)  # reading needs the team only
        if form.is_valid():
            try:
                message = team_messages.team_message_send(
                    patient=patient,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    recipient=form.cleaned_data["recipient"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Message sent.")
                return redirect(f"{request.path}#message-{message.public_id}")
        return _render(request, context, form, status=400)
    return _render(request, context, form)


@clinical_page(action=Action.SEND_TEAM_MESSAGE, methods=["POST"])
def team_reply(request: AuthenticatedRequest, patient: Patient, message_id: str) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="team")
    patient = context["patient"]
    original = team_messages.team_message_for(user=request.user, patient=patient, public_id=message_id)
    reply = ReplyForm(request.POST)
    if reply.is_valid():
        try:
            message = team_messages.team_message_send(
                patient=patient,
                actor=request.user,
                body=reply.cleaned_data["body"],
                reply_to=original,
            )
        except ValidationError as error:
            reply.add_error(None, error)
        else:
            messages.success(request, "Reply sent.")
            url = reverse("reminders:team_thread", kwargs={"patient_id": patient.public_id})
            return redirect(f"{url}#message-{message.public_id}")
    colleagues = team_messages.team_colleagues(patient=patient, actor=request.user)
    thread_key = str((original.thread or original).public_id)
    return _render(request, context, TeamMessageForm(colleagues=colleagues), {thread_key: reply}, status=400)
