"""HTML input validation for the medication pages. The dose rules themselves live in
services.dose_validate; a form only checks shapes and keeps what the user typed."""

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from medications.interactions import InteractionWarning
from medications.models import (
    LAB_UNITS,
    AdherenceMethod,
    DoseReason,
    DoseUnit,
    DrugClass,
    ExceptionKind,
    Frequency,
    HepaticImpairment,
    InjectionSite,
    LabTest,
    Medication,
    PregnancyPotential,
    Regimen,
    Route,
    Severity,
    SmokingStatus,
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


class WarningCodesField(forms.MultipleChoiceField):
    """The codes of the warnings ticked in the panel; which ones must be ticked is the service's
    rule (services.acknowledgements_check), so any well-formed code is accepted here."""

    def valid_value(self, value: str) -> bool:
        return bool(re.fullmatch(r"[-a-z0-9_]{1,60}", value))


class AcknowledgementMixin(forms.Form):
    """The warning panel's inputs: a checkbox per contraindicated or major warning, and why."""

    acknowledged_warnings = WarningCodesField(
        required=False, label="Warnings acknowledged", widget=forms.CheckboxSelectMultiple
    )
    acknowledgement_reason = forms.CharField(
        label="Why go ahead despite these warnings?",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with your name on the regimen (e.g. specialist advice, monitoring in place).",
    )

    other_warnings: Sequence[InteractionWarning] = ()

    def show_acknowledgement(self, warnings: Sequence[InteractionWarning]) -> None:
        self.blocking_warnings = [w for w in warnings if w.is_blocking]
        field = self.fields["acknowledged_warnings"]
        assert isinstance(field, WarningCodesField)
        field.choices = [(w.code, w.drugs) for w in self.blocking_warnings]

    def acknowledgement_data(self, data: dict[str, Any]) -> dict[str, Any]:
        data["acknowledged_warnings"] = list(data.get("acknowledged_warnings") or [])
        data["acknowledgement_reason"] = data.get("acknowledgement_reason") or ""
        return data


def _medication_label(medication: Medication) -> str:
    if medication.long_acting_injectable:
        limit = medication.max_dose_per_injection.normalize()  # type: ignore[union-attr]
        return f"{medication.name} ({medication.unit}, injection, at most {limit:f} {medication.unit} each)"
    return (
        f"{medication.name} ({medication.unit}, usual max {medication.max_daily_dose.normalize():f} "
        f"{medication.unit}/day)"
    )


class RegimenStartForm(AcknowledgementMixin, forms.Form):
    medication = forms.ChoiceField(label="Medication")
    dose = forms.DecimalField(
        label="Dose per administration", max_digits=9, decimal_places=3, help_text=DAILY_DOSE_HELP
    )
    unit = forms.ChoiceField(
        choices=DoseUnit.choices, initial=DoseUnit.MG, help_text="Must be the catalog's unit for this medication."
    )
    frequency = forms.ChoiceField(choices=Frequency.choices)
    max_doses_per_day = forms.IntegerField(
        label="Most doses a day (as needed)",
        min_value=1,
        max_value=24,
        required=False,
        help_text="Only for an as-needed (PRN) medication.",
    )
    route = forms.ChoiceField(choices=Route.choices, initial=Route.ORAL, help_text="Depots are intramuscular.")
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

    def __init__(self, *args: Any, medications: list[Medication], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._medications = {str(m.public_id): m for m in medications}
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for medication in medications:
            groups[DrugClass(medication.drug_class).label].append(
                (str(medication.public_id), _medication_label(medication))
            )
        cast(forms.ChoiceField, self.fields["medication"]).choices = [("", "Choose a medication…"), *groups.items()]
        self.show_acknowledgement([])

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


class DoseChangeForm(AcknowledgementMixin, forms.Form):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.show_acknowledgement([])


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


class PrescribingProfileForm(forms.Form):
    smoking_status = forms.ChoiceField(
        label="Smoking",
        choices=SmokingStatus.choices,
        help_text="Tobacco smoke induces CYP1A2 (clozapine, olanzapine).",
    )
    hepatic_impairment = forms.ChoiceField(
        label="Hepatic impairment", choices=HepaticImpairment.choices, help_text="Lowers some maximum doses."
    )
    pregnancy_potential = forms.ChoiceField(
        label="Pregnancy potential",
        choices=PregnancyPotential.choices,
        help_text="Valproate needs a pregnancy test and the prevention programme unless this is “cannot”.",
    )


class CriticalActionForm(forms.Form):
    action_taken = forms.CharField(
        label="Action taken",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was done, e.g. “Lithium withheld, patient seen today, repeat level tomorrow”.",
    )


class MonitoringExceptionForm(forms.Form):
    kind = forms.ChoiceField(
        label="Record as",
        choices=ExceptionKind.choices,
        widget=forms.RadioSelect,
    )
    done_on = forms.DateField(label="Done on", required=False, widget=DateInput(), help_text="Done elsewhere only.")
    reason = forms.CharField(
        label="Where / why",
        max_length=300,
        help_text="Done elsewhere: where (e.g. “GP surgery, results seen”). Waived: why.",
    )


class InjectionForm(forms.Form):
    given_on = forms.DateField(label="Given on", widget=DateInput())
    dose = forms.DecimalField(max_digits=9, decimal_places=3, required=False, help_text="Empty: the prescribed dose.")
    site = forms.ChoiceField(choices=InjectionSite.choices)
    observation_completed = forms.BooleanField(
        required=False, label="The post-injection observation period was completed"
    )
    comment = forms.CharField(max_length=300, required=False)


class MedicationProfileForm(forms.Form):
    benign_ethnic_neutropenia = forms.BooleanField(
        required=False, label="Benign ethnic neutropenia documented (clozapine BEN ANC bands)"
    )
    hla_b1502_risk_ancestry = forms.BooleanField(
        required=False, label="Ancestry at risk for HLA-B*1502 (genotype before carbamazepine)"
    )
