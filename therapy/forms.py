"""HTML input for opening a course and logging a session.

The session form is built for speed: today's date, the course's usual duration and
format, and "attended" are preset, choices are radio buttons (arrow keys move between
them), and Ctrl+Enter saves (static/therapy/session_form.js). The services re-check
everything; these forms only turn typing into values and keep what was typed on error.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from careplans.forms import DateInput
from careplans.models import Goal
from clinic.validators import LONG_TEXT_MAX_LENGTH
from therapy.models import (
    Attendance,
    CourseStatus,
    Frequency,
    GoalProgress,
    Homework,
    HomeworkCompletion,
    Modality,
    RiskLevel,
    SessionFormat,
    TherapyCourse,
)
from therapy.services import MAX_DAYS_AHEAD

GOAL_PREFIX = "goal-"


class GoalChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Goal) -> str:
        return f"{obj.description} ({obj.get_status_display().lower()})"


class CourseForm(forms.Form):
    modality = forms.ModelChoiceField(
        queryset=Modality.objects.none(), to_field_name="code", empty_label="Choose a modality"
    )
    planned_frequency = forms.ChoiceField(
        label="Planned frequency", choices=Frequency.choices, initial=Frequency.WEEKLY
    )
    planned_sessions = forms.IntegerField(label="Planned number of sessions", min_value=1, max_value=200, initial=12)
    usual_duration_minutes = forms.IntegerField(
        label="Usual session length (minutes)",
        min_value=5,
        max_value=480,
        required=False,
        help_text="Leave empty for the modality's usual length.",
    )
    usual_format = forms.ChoiceField(
        label="Usual format", choices=SessionFormat.choices, initial=SessionFormat.IN_PERSON, widget=forms.RadioSelect
    )
    goals = GoalChoiceField(
        queryset=Goal.objects.none(),
        required=False,
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
        label="Care-plan goals this course addresses",
    )
    started_on = forms.DateField(label="Start date", widget=DateInput())

    def __init__(self, *args: Any, modalities: Any, goals: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("started_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["modality"]).queryset = modalities
        cast(forms.ModelMultipleChoiceField, self.fields["goals"]).queryset = goals


class CourseEditForm(CourseForm):
    status = forms.ChoiceField(choices=CourseStatus.choices)

    field_order = ["status", "planned_frequency", "planned_sessions", "usual_duration_minutes", "usual_format", "goals"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["modality"]
        del self.fields["started_on"]


REVIEW_CHOICES = [(value, label) for value, label in HomeworkCompletion.choices if value != HomeworkCompletion.ASSIGNED]


class SessionForm(forms.Form):
    session_date = forms.DateField(label="Date", widget=DateInput())
    attendance = forms.ChoiceField(choices=Attendance.choices, initial=Attendance.ATTENDED, widget=forms.RadioSelect)
    format = forms.ChoiceField(choices=SessionFormat.choices, widget=forms.RadioSelect)
    duration_minutes = forms.IntegerField(label="Minutes", min_value=0, max_value=480)
    participants = forms.CharField(
        max_length=300, required=False, label="Who took part", help_text="E.g. patient, mother, younger brother."
    )
    summary = forms.CharField(
        label="Shared summary",
        required=False,
        max_length=LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The care team (prescriber, care manager) reads this. Keep private reflections below.",
    )
    last_homework = forms.ChoiceField(
        label="Was the last homework done?",
        required=False,
        choices=[("", "Not reviewed"), *REVIEW_CHOICES],
        widget=forms.RadioSelect,
    )
    homework = forms.CharField(max_length=500, required=False, label="Homework until next session")
    risk_level = forms.ChoiceField(
        label="Risk check", choices=RiskLevel.choices, initial=RiskLevel.NONE, widget=forms.RadioSelect
    )
    risk_note = forms.CharField(
        max_length=500,
        required=False,
        label="Risk note",
        help_text="Required when risk is raised: the prescriber is alerted at once.",
    )
    # Set by the "Log it anyway" button of the possible-duplicate warning (issue 16 item 9).
    confirm_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)
    private_note = forms.CharField(
        label="Private process note — only you can ever see this",
        required=False,
        max_length=LONG_TEXT_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "private-note"}),
        help_text="Stored apart from the session record. Never shown to colleagues, in reports, "
        "exports, e-mails or the audit trail.",
    )

    def __init__(
        self, *args: Any, course: TherapyCourse, goals: Iterable[Goal], open_homework: Homework | None, **kwargs: Any
    ) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("session_date", timezone.localdate())
        initial.setdefault("format", course.usual_format)
        initial.setdefault("duration_minutes", course.usual_duration_minutes)
        super().__init__(*args, **kwargs)
        self.course = course
        if not course.modality.involves_others:
            del self.fields["participants"]
        if open_homework is None:
            del self.fields["last_homework"]
        else:
            set_on = open_homework.assigned_in.session_date
            self.fields["last_homework"].help_text = f"Set on {set_on:%Y-%m-%d}: {open_homework.description}"
        self.goals = list(goals)
        for goal in self.goals:
            self.fields[f"{GOAL_PREFIX}{goal.public_id}"] = forms.ChoiceField(
                label=goal.description,
                required=False,
                choices=[("", "No update"), *GoalProgress.choices],
            )

    def goal_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(GOAL_PREFIX)]

    def clean_session_date(self) -> Any:
        day = self.cleaned_data["session_date"]
        if day > timezone.localdate() + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError("A session cannot be logged more than a day ahead.")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("risk_level") == RiskLevel.RAISED and not data.get("risk_note", "").strip():
            self.add_error("risk_note", "Say what the concern is: the prescriber is told at once.")
        missed = data.get("attendance") not in (None, Attendance.ATTENDED)
        # A missed session took no time unless the therapist says otherwise.
        if missed and "duration_minutes" not in self.changed_data:
            data["duration_minutes"] = 0
        if missed:
            # Nothing happened in a missed session: no goal progress, no homework set or reviewed,
            # whatever the hidden fields of the form still hold (issue 16 item 9).
            for name in list(data):
                if name.startswith(GOAL_PREFIX) or name in ("homework", "last_homework", "participants"):
                    data[name] = ""
        return data

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("confirm_duplicate", None)
        progress = {}
        for goal in self.goals:
            value = data.pop(f"{GOAL_PREFIX}{goal.public_id}", "")
            if value:
                progress[goal] = value
        data["goal_progress"] = progress
        return data
