"""HTML input validation for the medication pages. The dose rules themselves live in
services.dose_validate; a form only checks shapes and keeps what the user typed."""

from collections import defaultdict
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from medications.models import (
    LAB_UNITS,
    AdherenceMethod,
    DoseReason,
    DoseUnit,
    DrugClass,
    Frequency,
    LabTest,
    Medication,
    Regimen,
    Route,
    Severity,
)

DAILY_DOSE_HELP = (
    "The daily dose is this dose × doses per day (twice daily = 2); above the usual "
    "maximum it needs an override reason."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's per-field errors next to the fields the form has; the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


def _medication_label(medication: Medication) -> str:
    return (
        f"{medication.name} ({medication.unit}, usual max {medication.max_daily_dose.normalize():f} "
        f"{medication.unit}/day)"
    )


class RegimenStartForm(forms.Form):
    medication = forms.ChoiceField(label="Medication")
    dose = forms.DecimalField(
        label="Dose per administration", max_digits=9, decimal_places=3, help_text=DAILY_DOSE_HELP
    )
    unit = forms.ChoiceField(
        choices=DoseUnit.choices, initial=DoseUnit.MG, help_text="Must be the catalog's unit for this medication."
    )
    frequency = forms.ChoiceField(choices=Frequency.choices)
    route = forms.ChoiceField(choices=Route.choices, initial=Route.ORAL)
    start_date = forms.DateField(widget=DateInput())
    indication = forms.CharField(max_length=200, required=False)
    target_dose = forms.DecimalField(
        label="Target dose (titration)",
        max_digits=9,
        decimal_places=3,
        required=False,
        help_text="Where the titration is heading, per administration.",
    )
    target_level_low = forms.DecimalField(
        label="Target level from",
        max_digits=7,
        decimal_places=2,
        required=False,
        help_text="For drugs with a serum level, e.g. lithium: empty = NICE 0.6–1.0 mmol/L.",
    )
    target_level_high = forms.DecimalField(label="Target level to", max_digits=7, decimal_places=2, required=False)
    override_reason = forms.CharField(
        label="Override reason",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed for a daily dose above the usual maximum.",
    )
    confirm_interactions = forms.BooleanField(
        required=False, label="I have reviewed the interaction warnings above and start this medication anyway"
    )

    def __init__(self, *args: Any, medications: list[Medication], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._medications = {str(m.public_id): m for m in medications}
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for medication in medications:
            groups[DrugClass(medication.drug_class).label].append(
                (str(medication.public_id), _medication_label(medication))
            )
        cast(forms.ChoiceField, self.fields["medication"]).choices = [("", "Choose a medication…"), *groups.items()]
        self.fields["confirm_interactions"].widget = forms.HiddenInput()

    def show_confirmation(self) -> None:
        self.fields["confirm_interactions"].widget = forms.CheckboxInput()

    def clean_medication(self) -> Medication:
        medication = self._medications.get(self.cleaned_data["medication"])
        if medication is None:
            raise ValidationError("Choose a medication from the catalog.")
        return medication

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None, "Form.clean returns cleaned_data"
        low, high = data.get("target_level_low"), data.get("target_level_high")
        if (low is None) != (high is None):
            self.add_error("target_level_high", "Give both ends of the target range, or neither.")
        elif low is not None and high is not None and low >= high:
            self.add_error("target_level_high", "The upper end must be above the lower end.")
        return data


class DoseChangeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    dose = forms.DecimalField(
        label="New dose per administration", max_digits=9, decimal_places=3, help_text=DAILY_DOSE_HELP
    )
    reason_code = forms.ChoiceField(
        label="Reason", choices=[("", "Choose…")] + [c for c in DoseReason.choices if c[0] != DoseReason.START]
    )
    reason = forms.CharField(
        label="Details",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why, in a sentence: what you saw and what you expect.",
    )
    override_reason = forms.CharField(
        label="Override reason",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed for a daily dose above the usual maximum.",
    )
    effective_on = forms.DateField(label="Takes effect on", widget=DateInput())


class StatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, reason_required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class EnteredInErrorForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Why was it entered in error?", max_length=500)


class _RegimenChoiceForm(forms.Form):
    regimen = forms.ChoiceField(required=False, label="Medication")

    def __init__(self, *args: Any, regimens: list[Regimen], regimen_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._regimens = {str(r.public_id): r for r in regimens}
        empty = "Choose…" if regimen_required else "Not tied to one medication"
        cast(forms.ChoiceField, self.fields["regimen"]).choices = [("", empty)] + [
            (str(r.public_id), f"{r.medication.name} ({r.get_status_display().lower()})") for r in regimens
        ]
        self.fields["regimen"].required = regimen_required

    def clean_regimen(self) -> Regimen | None:
        value = self.cleaned_data.get("regimen")
        if not value:
            return None
        if value not in self._regimens:
            raise ValidationError("Choose one of this patient's medications.")
        return self._regimens[value]


class SideEffectForm(_RegimenChoiceForm):
    effect = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices)
    onset = forms.DateField(widget=DateInput())
    action_taken = forms.CharField(max_length=300, required=False)


class AdherenceForm(_RegimenChoiceForm):
    checked_on = forms.DateField(label="Date", widget=DateInput())
    method = forms.ChoiceField(choices=AdherenceMethod.choices)
    percent = forms.IntegerField(label="Doses taken (%)", min_value=0, max_value=100)
    barriers = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LabResultForm(_RegimenChoiceForm):
    test = forms.ChoiceField(
        choices=[("", "Choose…")] + [(value, f"{label} ({LAB_UNITS[value]})") for value, label in LabTest.choices]
    )
    value = forms.DecimalField(max_digits=10, decimal_places=3, help_text="In the unit shown with the test.")
    taken_on = forms.DateField(widget=DateInput())
    comment = forms.CharField(max_length=300, required=False)
