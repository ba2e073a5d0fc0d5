from typing import Any

from django import forms
from django.utils import timezone

from cocm.models import MAX_MINUTES, Activity


class CareMinutesForm(forms.Form):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.IntegerField(
        label="Minutes", min_value=1, max_value=MAX_MINUTES, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    activity = forms.ChoiceField(label="Activity", choices=[("", "Choose…"), *Activity.choices])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate()
