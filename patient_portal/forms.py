from django import forms
from django.utils import timezone

from outcomes.instruments import INSTRUMENTS
from patient_portal.models import (
    SAFETY_PLAN_STEPS,
    LinkPurpose,
    ScheduleFrequency,
    TargetDirection,
    TargetMeasure,
)


class LinkForm(forms.Form):
    purpose = forms.ChoiceField(choices=LinkPurpose.choices, widget=forms.HiddenInput)
    instrument = forms.ChoiceField(
        label="Questionnaire", choices=[("", "—")] + [(code, code) for code in INSTRUMENTS], required=False
    )
    days = forms.IntegerField(
        label="Valid for (days)",
        min_value=1,
        max_value=90,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "7"}),
        help_text="Empty: the clinic default (7 days).",
    )
    email = forms.BooleanField(label="Also e-mail the link to the patient", required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("purpose") == LinkPurpose.QUESTIONNAIRE and not data.get("instrument"):
            self.add_error("instrument", "Choose the questionnaire to send.")
        return data


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        label="Send a check-in link", choices=[("", "Not on a schedule"), *ScheduleFrequency.choices], required=False
    )


class SafetyPlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    agreed_on = forms.DateField(
        label="Agreed with the patient on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day the patient went through and agreed this version.",
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for name, title, hint in SAFETY_PLAN_STEPS:
            self.fields[name] = forms.CharField(
                label=title,
                help_text=f"{hint} In the patient's own words.",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean_agreed_on(self):  # type: ignore[no-untyped-def]
        day = self.cleaned_data.get("agreed_on")
        if day and day > timezone.localdate():
            raise forms.ValidationError("The agreement date cannot be in the future.")
        return day

    def step_fields(self) -> list:
        return [self[name] for name, _, _ in SAFETY_PLAN_STEPS]


class GoalTargetForm(forms.Form):
    measure = forms.ChoiceField(label="Measure", choices=TargetMeasure.choices)
    direction = forms.ChoiceField(label="Target", choices=TargetDirection.choices)
    value = forms.DecimalField(label="Value", min_value=0, max_digits=7, decimal_places=1)
