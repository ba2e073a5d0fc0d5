"""The chart's medications tab and the prescriber's forms (thin function views).

Each view: chart context / selector (404 off the care team) -> capability check (403; the
tab shows no buttons the user may not use) -> form -> service -> redirect. A form error or
a stale version re-renders with what the user typed (STYLE.md rule 9).
"""

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from careplans.chart import chart_context
from careplans.models import Patient
from careplans.selectors import care_team_of
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from clinic.concurrency import StaleVersionError, form_rebased
from medications import selectors, services
from medications.charts import dose_step_chart
from medications.forms import (
    AdherenceForm,
    DoseChangeForm,
    EnteredInErrorForm,
    LabResultForm,
    RegimenStartForm,
    SideEffectForm,
    StatusForm,
    add_service_errors,
)
from medications.interactions import interaction_warnings
from medications.models import DoseChange, Regimen, RegimenStatus

STATUS_ACTIONS = {
    "pause": (RegimenStatus.PAUSED, "Pause", True),
    "resume": (RegimenStatus.ACTIVE, "Resume", False),
    "stop": (RegimenStatus.STOPPED, "Stop", True),
}


def _page(request: AuthenticatedRequest, template: str, patient: Any, **context: Any) -> HttpResponse:
    """A form page under the chart header (no second chart-open audit: the form is not the chart)."""
    return render(
        request,
        template,
        {"patient": patient, "team": list(care_team_of(patient)), "active_tab": "medications", **context},
    )


def _chart(regimen: Regimen, history: list[DoseChange], today: Any) -> Any:
    end = regimen.stopped_on or today
    return dose_step_chart(
        steps=[(c.effective_on, c.dose) for c in history], end=end, unit=regimen.unit, target=regimen.target_dose
    )


@clinical_page()
def tab(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="medications")
    today = timezone.localdate()
    data = selectors.medications_tab(patient=context["patient"], today=today)
    for view in data.current + data.past:
        view.chart = _chart(view.regimen, view.history, today)  # type: ignore[attr-defined]
    context |= {
        "tab": data,
        "today": today,
        "can_prescribe": user_can(request.user, Action.PRESCRIBE),
        "can_record": user_can(request.user, Action.RECORD_LAB_RESULT),
        "overdue_count": sum(1 for row in data.monitoring if row.item.status == "overdue"),
    }
    return render(request, "medications/chart_tab.html", context)


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def regimen_start(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    catalog = list(selectors.medication_catalog())
    form = RegimenStartForm(request.POST or None, medications=catalog, initial={"start_date": timezone.localdate()})
    warnings: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        warnings = interaction_warnings(patient=patient, medication=data["medication"])
        if warnings and not data.pop("confirm_interactions"):
            form.show_confirmation()
            if request.POST.get("interactions_shown"):  # they saw the warnings and did not tick the box
                form.add_error("confirm_interactions", "Tick this box to start it despite the interactions.")
        else:
            data.pop("confirm_interactions", None)
            try:
                services.regimen_start(patient=patient, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{data['medication'].name} started.")
                return redirect("medications:tab", patient_id=patient.public_id)
    if warnings:
        form.show_confirmation()
    return _page(request, "medications/regimen_form.html", patient, form=form, warnings=warnings)


def _dose_page(
    request: AuthenticatedRequest,
    patient: Any,
    regimen: Regimen,
    form: DoseChangeForm,
    conflict: Regimen | None = None,
    error_form: EnteredInErrorForm | None = None,
) -> HttpResponse:
    history = list(selectors.dose_history(regimen))
    today = timezone.localdate()
    return _page(
        request,
        "medications/dose_form.html",
        patient,
        regimen=regimen,
        form=form,
        conflict=conflict,
        history=history,
        chart=_chart(regimen, history, today),
        error_form=error_form or EnteredInErrorForm(initial={"version": regimen.version}),
    )


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def dose_change(request: AuthenticatedRequest, patient: Patient, regimen_id: str) -> HttpResponse:
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    form = DoseChangeForm(
        request.POST or None, initial={"version": regimen.version, "effective_on": timezone.localdate()}
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.dose_change_record(regimen=regimen, actor=request.user, **data)
        except StaleVersionError as error:
            conflict = cast(Regimen, error.current)  # dose_change_record claims the regimen's version
            messages.error(
                request,
                "Not saved: someone changed this regimen while you were editing. "
                "The current dose and history are shown; your entry is kept below, "
                "check it and save again.",
            )
            form = form_rebased(DoseChangeForm, request.POST, conflict.version)
            regimen = conflict
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Dose change saved.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _dose_page(request, patient, regimen, form, conflict)


@clinical_page(action=Action.PRESCRIBE, methods=["POST"])
def dose_change_error(request: AuthenticatedRequest, patient: Patient, regimen_id: str, change_id: str) -> HttpResponse:
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    change = selectors.dose_change_of(user=request.user, regimen=regimen, public_id=change_id)
    error_form = EnteredInErrorForm(request.POST)
    if error_form.is_valid():
        try:
            services.dose_change_enter_in_error(dose_change=change, actor=request.user, **error_form.cleaned_data)
        except StaleVersionError:
            messages.error(request, "Not saved: the regimen changed meanwhile. Check the history and try again.")
            return redirect("medications:dose_change", patient_id=patient.public_id, regimen_id=regimen.public_id)
        except ValidationError as error:
            add_service_errors(error_form, error)
        else:
            messages.success(request, "Dose change marked as entered in error; the previous dose is current again.")
            return redirect("medications:dose_change", patient_id=patient.public_id, regimen_id=regimen.public_id)
    form = DoseChangeForm(initial={"version": regimen.version, "effective_on": timezone.localdate()})
    return _dose_page(request, patient, regimen, form, error_form=error_form)


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def regimen_status(request: AuthenticatedRequest, patient: Patient, regimen_id: str, verb: str) -> HttpResponse:
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    new_status, label, reason_required = STATUS_ACTIONS[verb]
    form = StatusForm(request.POST or None, reason_required=reason_required, initial={"version": regimen.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.regimen_status_change(regimen=regimen, status=new_status, actor=request.user, **form.cleaned_data)
        except StaleVersionError:
            messages.error(
                request, "Not saved: someone changed this regimen while you were editing. Check it and try again."
            )
            return redirect("medications:tab", patient_id=patient.public_id)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{regimen.medication.name}: {new_status}.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(request, "medications/status_form.html", patient, regimen=regimen, form=form, verb=verb, label=label)


def _record_view(
    request: AuthenticatedRequest,
    patient: Patient,
    *,
    form_class: type,
    service: Any,
    title: str,
    initial: dict[str, Any],
    done: str,
) -> HttpResponse:
    regimens = list(
        Regimen.objects.filter(patient=patient).select_related("medication").order_by("status", "medication__name")
    )
    form = form_class(request.POST or None, regimens=regimens, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            service(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(request, "medications/record_form.html", patient, form=form, title=title)


@clinical_page(action=Action.RECORD_SIDE_EFFECT, methods=["GET", "POST"])
def side_effect_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    return _record_view(
        request,
        patient,
        form_class=SideEffectForm,
        service=services.side_effect_record,
        title="Record a side effect",
        initial={"onset": timezone.localdate(), "regimen": request.GET.get("regimen", "")},
        done="Side effect recorded.",
    )


@clinical_page(action=Action.RECORD_ADHERENCE, methods=["GET", "POST"])
def adherence_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    return _record_view(
        request,
        patient,
        form_class=AdherenceForm,
        service=services.adherence_check_record,
        title="Record an adherence check",
        initial={"checked_on": timezone.localdate()},
        done="Adherence check recorded.",
    )


@clinical_page(action=Action.RECORD_LAB_RESULT, methods=["GET", "POST"])
def lab_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    return _record_view(
        request,
        patient,
        form_class=LabResultForm,
        service=services.lab_result_record,
        title="Enter a lab result",
        initial={
            "taken_on": timezone.localdate(),
            "test": request.GET.get("test", ""),
            "regimen": request.GET.get("regimen", ""),
        },
        done="Lab result saved.",
    )
