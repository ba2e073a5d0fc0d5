"""The period chooser and the clinician filter every report shares, for pages and the API."""

import calendar
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from clinic.models import User
from clinic.selectors import clinicians
from reports.base import ReportParams

MAX_SPAN = timedelta(days=5 * 366)

PERIODS = [
    ("3m", "Last 3 months"),
    ("6m", "Last 6 months"),
    ("12m", "Last 12 months"),
    ("ytd", "This year so far"),
    ("custom", "Custom dates"),
]


def _months_back(day: date, months: int) -> date:
    """The day after the same date `months` earlier: "last 3 months" on 15 May is 16 Feb-15 May."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day)) + timedelta(days=1)


def period_dates(period: str, today: date) -> tuple[date, date]:
    if period == "3m":
        return _months_back(today, 3), today
    if period == "6m":
        return _months_back(today, 6), today
    if period == "ytd":
        return date(today.year, 1, 1), today
    return _months_back(today, 12), today


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class ReportParamsForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, initial="12m")
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}), help_text="Custom dates only."
    )
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    clinician = ClinicianChoiceField(
        queryset=User.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="Whole clinic",
        label="Clinician",
        help_text="Patients on this clinician's care team during the period.",
    )

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        cast(forms.ModelChoiceField, self.fields["clinician"]).queryset = clinicians()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None, "Form.clean returns cleaned_data"
        period = data.get("period") or "12m"
        data["period"] = period
        if period != "custom":
            data["start"], data["end"] = period_dates(period, self.today)
            return data
        start, end = data.get("start"), data.get("end")
        if start is None and "start" not in self.errors:
            self.add_error("start", "Choose the first day of the period.")
        if end is None and "end" not in self.errors:
            self.add_error("end", "Choose the last day of the period.")
        if start and end:
            if end > self.today:
                self.add_error("end", "The period cannot end in the future.")
            elif start > end:
                self.add_error("start", "The period must start on or before its last day.")
            elif end - start > MAX_SPAN:
                self.add_error("start", "A period can cover at most five years.")
        return data

    def params(self, user: User) -> ReportParams:
        """Call after is_valid()."""
        data = self.cleaned_data
        return ReportParams(
            user=user, start=data["start"], end=data["end"], today=self.today, clinician=data.get("clinician")
        )

    def query(self) -> dict[str, str]:
        """The chosen parameters as query-string values (dates and a staff id: no patient data)."""
        data = self.cleaned_data
        query = {"period": data["period"]}
        if data["period"] == "custom":
            query |= {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
        if data.get("clinician") is not None:
            query["clinician"] = str(data["clinician"].public_id)
        return query
