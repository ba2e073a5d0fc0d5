"""The chart's medications tab and the prescriber's forms (thin function views).

Each view: chart context / selector (404 off the care team) -> capability check (403; the
tab shows no buttons the user may not use) -> form -> service -> redirect. A form error or
a stale version re-renders with what the user typed (STYLE.md rule 9).
"""

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
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
    CriticalActionForm,
    DoseChangeForm,
    EnteredInErrorForm,
    InjectionForm,
    LabResultForm,
    MedicationProfileForm,
    MonitoringExceptionForm,
    PrescribingProfileForm,
    RegimenStartForm,
    SideEffectForm,
    StatusForm,
    add_service_errors,
)
from medications.interactions import InteractionWarning
from medications.limits import start_warnings
from medications.models import DoseChange, ExceptionKind, LabTest, Regimen, RegimenStatus

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


def _chart(regimen: Regimen, history: list[DoseChange], today: Any, injections: Any = ()) -> Any:
    end = regimen.stopped_on or today
    return dose_step_chart(
        steps=[(c.effective_on, c.dose) for c in history],
        end=end,
        unit=regimen.unit,
        target=regimen.target_dose,
        injections=[(i.given_on, i.dose) for i in injections],
    )


@clinical_page()
def tab(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="medications")
    today = timezone.localdate()
    data = selectors.medications_tab(patient=context["patient"], today=today)
    for view in data.current + data.past:
        view.chart = _chart(view.regimen, view.history, today, view.injections)  # type: ignore[attr-defined]
    context |= {
        "tab": data,
        "profile": selectors.prescribing_profile(patient=context["patient"]),
        "today": today,
        "can_prescribe": user_can(request.user, Action.PRESCRIBE),
        "can_record": user_can(request.user, Action.RECORD_LAB_RESULT),
        "overdue_count": sum(1 for row in data.monitoring if row.item.status == "overdue"),
    }
    return render(request, "medications/chart_tab.html", context)


def _acknowledgement_asked(
    request: HttpRequest, form: RegimenStartForm | DoseChangeForm, error: services.AcknowledgementRequired
) -> list[InteractionWarning]:
    """Show the warning panel. The first time it only informs; once it has been shown, what is
    missing (a tick, the reason) is an error next to that field, and the input is kept."""
    form.show_acknowledgement(error.warnings)
    form.other_warnings = error.others
    if request.POST.get("acknowledgement_shown"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field, messages_)
    return error.warnings


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def regimen_start(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    catalog = list(selectors.medication_catalog())
    form = RegimenStartForm(request.POST or None, medications=catalog, initial={"start_date": timezone.localdate()})
    warnings: list[InteractionWarning] = []
    if request.method == "POST" and form.is_valid():
        data = form.acknowledgement_data(dict(form.cleaned_data))
        try:
            started = services.regimen_start(patient=patient, actor=request.user, **data)
        except services.AcknowledgementRequired as error:
            warnings = _acknowledgement_asked(request, form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{data['medication'].name} started.")
            for note in selectors.regimen_safety_notes(started):
                messages.warning(request, note.message)
            return redirect("medications:tab", patient_id=patient.public_id)
    elif request.method == "POST" and request.POST.get("acknowledgement_shown"):
        # A field error elsewhere: keep the panel (and the ticks) on screen.
        warnings = _panel_again(patient, form)
    return _page(request, "medications/regimen_form.html", patient, form=form, warnings=warnings)


def _panel_again(patient: Any, form: RegimenStartForm) -> list[InteractionWarning]:
    medication = form.cleaned_data.get("medication")
    start_date = form.cleaned_data.get("start_date") or timezone.localdate()
    if medication is None:
        return []
    warnings = start_warnings(patient=patient, medication=medication, on=start_date)
    form.show_acknowledgement(warnings)
    form.other_warnings = [w for w in warnings if not w.is_blocking]
    return [w for w in warnings if w.is_blocking]


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
        warnings=getattr(form, "blocking_warnings", []),
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
        data = form.acknowledgement_data(dict(form.cleaned_data))
        try:
            services.dose_change_record(regimen=regimen, actor=request.user, **data)
        except services.AcknowledgementRequired as error:
            _acknowledgement_asked(request, form, error)
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
            regimen.refresh_from_db()
            for note in selectors.regimen_safety_notes(regimen):
                messages.warning(request, note.message)
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


@clinical_page(action=Action.RECORD_LAB_RESULT, methods=["GET", "POST"])
def profile_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    profile = selectors.prescribing_profile(patient=patient)
    form = PrescribingProfileForm(
        request.POST or None,
        initial={
            "smoking_status": profile.smoking_status,
            "hepatic_impairment": profile.hepatic_impairment,
            "pregnancy_potential": profile.pregnancy_potential,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            _, warnings = services.prescribing_profile_update(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Prescribing profile saved.")
            for warning in warnings:
                messages.warning(request, f"{warning.drug}: {warning.risk}. {warning.advice}")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(request, "medications/record_form.html", patient, form=form, title="Prescribing profile")


# --- Critical results, monitoring exceptions, injections, profile -------------------------


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def critical_action(request: AuthenticatedRequest, patient: Patient, critical_id: str) -> HttpResponse:
    """A prescriber records the action taken on a critical result; the chart banner goes."""
    alert = selectors.critical_result_of(user=request.user, patient=patient, public_id=critical_id)
    form = CriticalActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.critical_result_action_record(critical_result=alert, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Action recorded.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(request, "medications/critical_action_form.html", patient, form=form, alert=alert)


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def monitoring_exception_create(
    request: AuthenticatedRequest, patient: Patient, regimen_id: str, test: str
) -> HttpResponse:
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    if test not in LabTest.values:
        raise Http404
    form = MonitoringExceptionForm(request.POST or None, initial={"kind": ExceptionKind.DONE_ELSEWHERE})
    if request.method == "POST" and form.is_valid():
        try:
            services.monitoring_exception_record(
                patient=patient, regimen=regimen, test=test, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{LabTest(test).label}: recorded.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(
        request,
        "medications/exception_form.html",
        patient,
        form=form,
        regimen=regimen,
        test_label=LabTest(test).label,
    )


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def injection_create(request: AuthenticatedRequest, patient: Patient, regimen_id: str) -> HttpResponse:
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    form = InjectionForm(request.POST or None, initial={"given_on": timezone.localdate(), "dose": regimen.dose})
    if request.method == "POST" and form.is_valid():
        try:
            services.injection_record(regimen=regimen, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Injection recorded.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _page(
        request,
        "medications/injection_form.html",
        patient,
        form=form,
        regimen=regimen,
        notes=selectors.regimen_safety_notes(regimen),
    )


@clinical_page(action=Action.PRESCRIBE, methods=["GET", "POST"])
def medication_profile_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    profile = selectors.medication_profile_of(patient)
    initial = {
        "benign_ethnic_neutropenia": bool(profile and profile.benign_ethnic_neutropenia),
        "hla_b1502_risk_ancestry": bool(profile and profile.hla_b1502_risk_ancestry),
    }
    form = MedicationProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.medication_profile_update(patient=patient, actor=request.user, **form.cleaned_data)
        messages.success(request, "Medication safety profile saved.")
        return redirect("medications:tab", patient_id=patient.public_id)
    return _page(request, "medications/record_form.html", patient, form=form, title="Medication safety profile")


# --- Registry hook (wired in MedicationsConfig.ready) -----------------------------------------


def critical_result_banner(*, patient: Any, user: Any) -> dict[str, Any] | None:
    """The banner on every chart tab while a critical result has no recorded action."""
    alerts = selectors.open_critical_results_of(patient)
    if not alerts:
        return None
    return {
        "template": "medications/_critical_banner.html",
        "context": {"patient": patient, "alerts": alerts, "can_action": user_can(user, Action.PRESCRIBE)},
    }
