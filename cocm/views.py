"""The chart's "CoCM minutes" tab: log time (care managers), see the entries and what each
month's minutes reach (cocm/billing.py). Reads: the patient's care team (cocm/selectors.py)."""

from collections import defaultdict
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from careplans.chart import chart_context
from careplans.models import Patient
from clinic.access import Action, AuthenticatedRequest, clinical_page, require, user_can
from cocm import services
from cocm.billing import months_billed
from cocm.forms import CareMinutesForm
from cocm.selectors import care_minutes_of

MONTHS_SHOWN = 6


def _months(entries: list[Any]) -> list[Any]:
    totals: dict[date, int] = defaultdict(int)
    for entry in entries:
        totals[entry.day.replace(day=1)] += entry.minutes
    return list(reversed(months_billed(totals.items())))[:MONTHS_SHOWN]


@clinical_page(action=Action.VIEW_CLINICAL, methods=["GET", "POST"])
def care_minutes_page(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    can_log = user_can(request.user, Action.LOG_CARE_MINUTES)
    form = CareMinutesForm()
    status = 200
    if request.method == "POST":
        require(request.user, Action.LOG_CARE_MINUTES)
        form = CareMinutesForm(request.POST)
        if form.is_valid():
            try:
                services.care_minutes_log(patient=patient, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                messages.success(request, f"{form.cleaned_data['minutes']} minutes logged.")
                return redirect("cocm:minutes", patient_id=patient.public_id)
        status = 400
    context = chart_context(user=request.user, patient=patient, tab="care_minutes")
    entries = list(care_minutes_of(patient.pk))
    context |= {"form": form, "can_log": can_log, "entries": entries[:100], "months": _months(entries)}
    return render(request, "cocm/minutes.html", context, status=status)
