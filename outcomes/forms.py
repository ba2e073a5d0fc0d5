"""HTML input for questionnaires, risk follow-ups and case reviews. Scoring stays in the service."""

from typing import Any

from django import forms
from django.utils import timezone

from careplans.case_reviews import Recommendation
from careplans.models import TeamRole
from outcomes.cssrs import QUESTIONS, CssrsAnswers
from outcomes.instruments import Instrument, phq9
from outcomes.models import ContactMethod, RiskOutcome, RiskPlan, SafetyAlertRecipients

RECOMMENDATION_ROWS = 4


class AssessmentForm(forms.Form):
    """One radio group per item, in the printed order; nothing is pre-selected."""

    administered_on = forms.DateField(label="Date completed", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        choices = [(option.value, option.label) for option in instrument.options]
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=item.text,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Answer item {item.number}.",
                    "invalid_choice": f"Choose one of the answers for item {item.number}.",
                },
            )

    def item_fields(self) -> list[dict[str, Any]]:
        return [
            {
                "number": item.number,
                "field": self[f"item_{item.number}"],
                "is_safety_item": self.instrument.code == phq9.INSTRUMENT.code and item.number == phq9.SAFETY_ITEM,
            }
            for item in self.instrument.items
        ]

    def responses(self) -> list[int]:
        return [self.cleaned_data[f"item_{item.number}"] for item in self.instrument.items]


class SafetyFollowUpForm(forms.Form):
    assessed_on = forms.DateField(
        label="Date of the risk assessment", initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    format = forms.ChoiceField(
        label="How the patient was seen", choices=ContactMethod.choices, widget=forms.RadioSelect
    )
    outcome = forms.ChoiceField(
        label="What the assessment found", choices=RiskOutcome.choices, widget=forms.RadioSelect
    )
    plan = forms.ChoiceField(
        label="Plan",
        choices=RiskPlan.choices,
        widget=forms.RadioSelect,
        help_text="Intent, a plan or recent suicidal behaviour needs a same-day evaluation or emergency services.",
    )
    plan_details = forms.CharField(
        label="What was done and agreed",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Who follows up, and when. Crisis numbers given, means restriction discussed, people involved.",
    )
    safety_plan_reviewed = forms.BooleanField(
        label="Safety plan reviewed with the patient",
        required=False,
        help_text="The patient's own safety plan (Patient links tab) was gone through and updated if needed.",
    )


class CaseReviewFlagForm(forms.Form):
    reason = forms.CharField(
        label="What should the consultant look at?", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class CaseReviewRecordForm(forms.Form):
    summary = forms.CharField(
        label="Review summary", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = [("", "Anyone on the team"), *TeamRole.choices]
        for row in range(1, RECOMMENDATION_ROWS + 1):
            self.fields[f"rec_{row}_description"] = forms.CharField(
                label=f"Recommendation {row}", required=False, max_length=500
            )
            self.fields[f"rec_{row}_role"] = forms.ChoiceField(label="For", choices=roles, required=False)
            self.fields[f"rec_{row}_due"] = forms.DateField(
                label="Due", required=False, widget=forms.DateInput(attrs={"type": "date"})
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "description": self[f"rec_{row}_description"],
                "role": self[f"rec_{row}_role"],
                "due": self[f"rec_{row}_due"],
            }
            for row in range(1, RECOMMENDATION_ROWS + 1)
        ]

    def recommendations(self) -> list[Recommendation]:
        data = self.cleaned_data
        return [
            Recommendation(
                description=data[f"rec_{row}_description"],
                assigned_role=data[f"rec_{row}_role"],
                due_date=data[f"rec_{row}_due"],
            )
            for row in range(1, RECOMMENDATION_ROWS + 1)
            if data.get(f"rec_{row}_description", "").strip()
        ]


YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class CssrsForm(forms.Form):
    """The six screener questions as yes/no radios; 3-5 only when 2 is yes (the service checks
    the skip rule and reports it on the question's field)."""

    screened_on = forms.DateField(label="Date asked", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.field] = forms.TypedChoiceField(
                label=f"{question.number}. {question.text}",
                help_text=question.heading,
                choices=YES_NO,
                coerce=_yes_no,
                empty_value=None,
                required=not question.only_if_thoughts,
                widget=forms.RadioSelect,
                error_messages={"required": f"Answer question {question.number}."},
            )

    def question_fields(self, *, follow_up: bool) -> list[forms.BoundField]:
        return [self[q.field] for q in QUESTIONS if q.only_if_thoughts == follow_up]

    def answers(self) -> CssrsAnswers:
        return CssrsAnswers(**{q.field: self.cleaned_data[q.field] for q in QUESTIONS})


class SafetyAlertRecipientsForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label="Alert these members of the patient's care team",
        choices=[(role, label) for role, label in TeamRole.choices if role in SafetyAlertRecipients.ROLE_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="When none of them is on a patient's team, everyone on the team is alerted.",
    )
