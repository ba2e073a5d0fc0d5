"""The chart's medications tab and the prescriber's forms (thin function views).

Each view: chart context / selector (404 off the care team) -> capability check (403; the
tab shows no buttons the user may not use) -> form -> service -> redirect. A form error or
a stale version re-renders with what the user typed (STYLE.md rule 9).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careplans.chart import chart_context
from careplans.selectors import care_team_of, patient_for_clinical_use
from clinic.access import Action, user_can
from clinic.concurrency import StaleVersionError
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
    RegimenStartForm,
    SideEffectForm,
    StatusForm,
    add_service_errors,
)
from medications.interactions import interaction_warnings
from medications.models import DoseChange, ExceptionKind, LabTest, Regimen, RegimenStatus

STATUS_ACTIONS = {
    "pause": (RegimenStatus.PAUSED, "Pause", True),
    "resume": (RegimenStatus.ACTIVE, "Resume", False),
    "stop": (RegimenStatus.STOPPED, "Stop", True),
}


def _require(request: HttpRequest, action: Action) -> None:
    if not user_can(request.user, action):
        raise PermissionDenied


def _page(request: HttpRequest, template: str, patient: Any, **context: Any) -> HttpResponse:
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


@login_required
def tab(request: HttpRequest, patient_id: str) -> HttpResponse:
    context = chart_context(user=request.user, patient_id=patient_id, tab="medications")
    today = timezone.localdate()
    data = selectors.medications_tab(patient=context["patient"], today=today)
    for view in data.current + data.past:
        view.chart = _chart(view.regimen, view.history, today, view.injections)  # type: ignore[attr-defined]
    context |= {
        "tab": data,
        "today": today,
        "can_prescribe": user_can(request.user, Action.PRESCRIBE),
        "can_record": user_can(request.user, Action.RECORD_LAB_RESULT),
        "overdue_count": sum(1 for row in data.monitoring if row.item.status == "overdue"),
    }
    return render(request, "medications/chart_tab.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def regimen_start(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    _require(request, Action.PRESCRIBE)
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
                started = services.regimen_start(patient=patient, actor=request.user, **data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{data['medication'].name} started.")
                for note in selectors.regimen_safety_notes(started):
                    messages.warning(request, note.message)
                return redirect("medications:tab", patient_id=patient.public_id)
    if warnings:
        form.show_confirmation()
    return _page(request, "medications/regimen_form.html", patient, form=form, warnings=warnings)


def _dose_page(
    request: HttpRequest,
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


@login_required
@require_http_methods(["GET", "POST"])
def dose_change(request: HttpRequest, patient_id: str, regimen_id: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    _require(request, Action.PRESCRIBE)
    form = DoseChangeForm(
        request.POST or None, initial={"version": regimen.version, "effective_on": timezone.localdate()}
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.dose_change_record(regimen=regimen, actor=request.user, **data)
        except StaleVersionError as error:
            conflict = error.current
            messages.error(
                request,
                "Not saved: someone changed this regimen while you were editing. "
                "The current dose and history are shown; your entry is kept below, "
                "check it and save again.",
            )
            rebased = request.POST.copy()
            rebased["version"] = str(conflict.version)
            form = DoseChangeForm(rebased)
            form.is_valid()
            regimen = conflict  # type: ignore[assignment]
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Dose change saved.")
            return redirect("medications:tab", patient_id=patient.public_id)
    return _dose_page(request, patient, regimen, form, conflict)


@login_required
@require_http_methods(["POST"])
def dose_change_error(request: HttpRequest, patient_id: str, regimen_id: str, change_id: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    _require(request, Action.PRESCRIBE)
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


@login_required
@require_http_methods(["GET", "POST"])
def regimen_status(request: HttpRequest, patient_id: str, regimen_id: str, verb: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    _require(request, Action.PRESCRIBE)
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
    request: HttpRequest,
    patient_id: str,
    *,
    form_class: type,
    action: Action,
    service: Any,
    title: str,
    initial: dict[str, Any],
    done: str,
) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    _require(request, action)
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


@login_required
@require_http_methods(["GET", "POST"])
def side_effect_create(request: HttpRequest, patient_id: str) -> HttpResponse:
    return _record_view(
        request,
        patient_id,
        form_class=SideEffectForm,
        action=Action.RECORD_SIDE_EFFECT,
        service=services.side_effect_record,
        title="Record a side effect",
        initial={"onset": timezone.localdate(), "regimen": request.GET.get("regimen", "")},
        done="Side effect recorded.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def adherence_create(request: HttpRequest, patient_id: str) -> HttpResponse:
    return _record_view(
        request,
        patient_id,
        form_class=AdherenceForm,
        action=Action.RECORD_ADHERENCE,
        service=services.adherence_check_record,
        title="Record an adherence check",
        initial={"checked_on": timezone.localdate()},
        done="Adherence check recorded.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def lab_create(request: HttpRequest, patient_id: str) -> HttpResponse:
    return _record_view(
        request,
        patient_id,
        form_class=LabResultForm,
        action=Action.RECORD_LAB_RESULT,
        service=services.lab_result_record,
        title="Enter a lab result",
        initial={
            "taken_on": timezone.localdate(),
            "test": request.GET.get("test", ""),
            "regimen": request.GET.get("regimen", ""),
        },
        done="Lab result saved.",
    )


# --- Critical results, monitoring exceptions, injections, profile -------------------------


@login_required
@require_http_methods(["GET", "POST"])
def critical_action(request: HttpRequest, patient_id: str, critical_id: str) -> HttpResponse:
    """A prescriber records the action taken on a critical result; the chart banner goes."""
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    alert = selectors.critical_result_of(user=request.user, patient=patient, public_id=critical_id)
    _require(request, Action.PRESCRIBE)
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


@login_required
@require_http_methods(["GET", "POST"])
def monitoring_exception_create(request: HttpRequest, patient_id: str, regimen_id: str, test: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    _require(request, Action.PRESCRIBE)
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


@login_required
@require_http_methods(["GET", "POST"])
def injection_create(request: HttpRequest, patient_id: str, regimen_id: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    regimen = selectors.regimen_of_patient(user=request.user, patient=patient, public_id=regimen_id)
    _require(request, Action.PRESCRIBE)
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


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = patient_for_clinical_use(user=request.user, public_id=patient_id)
    _require(request, Action.PRESCRIBE)
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
