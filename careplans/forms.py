"""HTML input validation for patients, care teams and the care plan.

Forms validate and keep what the user typed; the services do the writing.
Date fields use the browser's date picker; every field has a label and its
errors render next to it (templates/_field.html).
"""

from typing import Any, cast

from django import forms

from careplans.diagnoses import diagnoses_from_lines
from careplans.models import (
    AgreementKind,
    CarePlanStatus,
    GoalDomain,
    GoalStatus,
    Patient,
    TeamRole,
)
from clinic.models import User
from clinic.validators import LONG_TEXT_MAX_LENGTH, MEDIUM_TEXT_MAX_LENGTH


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["given_name", "family_name", "preferred_name", "birth_date", "mrn", "phone", "email"]
        widgets = {"birth_date": DateInput()}


class CarePlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=CarePlanStatus.choices)
    summary = forms.CharField(
        label="Shared formulation",
        required=False,
        max_length=LONG_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the whole team agrees is going on and what the plan is for.",
    )
    diagnoses = forms.CharField(
        label="Problem list / diagnoses",
        required=False,
        max_length=MEDIUM_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, ICD-10 code first if known: “F32.1 Major depressive disorder, moderate”.",
    )
    review_date = forms.DateField(required=False, widget=DateInput())

    def clean_diagnoses(self) -> list[dict[str, str]]:
        return diagnoses_from_lines(self.cleaned_data["diagnoses"])


class GoalForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    domain = forms.ChoiceField(choices=GoalDomain.choices)
    description = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    target = forms.CharField(
        max_length=300,
        required=False,
        label="Measurable target",
        help_text="How the team will know, e.g. “PHQ-9 below 5” or “back at work 3 days a week”.",
    )
    due_date = forms.DateField(required=False, widget=DateInput())
    status = forms.ChoiceField(choices=GoalStatus.choices, initial=GoalStatus.PROPOSED)


class RelapsePlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    warning_signs = forms.CharField(
        required=False,
        max_length=MEDIUM_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Early signs that things are slipping.",
    )
    triggers = forms.CharField(
        required=False, max_length=MEDIUM_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    coping_strategies = forms.CharField(
        required=False,
        max_length=MEDIUM_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What helps; keep doing it.",
    )
    people_to_contact = forms.CharField(
        required=False, max_length=MEDIUM_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    crisis_steps = forms.CharField(
        required=False,
        max_length=MEDIUM_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What to do and whom to call in a crisis.",
    )


class PlanAgreementForm(forms.Form):
    kind = forms.ChoiceField(choices=AgreementKind.choices)
    agreed_on = forms.DateField(widget=DateInput())
    participants = forms.CharField(max_length=300)
    agreement = forms.CharField(
        label="What was agreed", max_length=MEDIUM_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class CareTeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Clinician", to_field_name="public_id")
    role = forms.ChoiceField(choices=TeamRole.choices, label="Role on this team")

    def __init__(self, *args: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = clinicians
