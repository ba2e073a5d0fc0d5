"""Thin HTML views for the caseload, the chart's care-plan tab and the care-plan editors.

Each view: selector (404 for what the user may not see) -> capability check
(403) -> form -> service -> redirect. A form error, or a stale version, re-renders
with what the user typed (STYLE.md rule 9).
"""

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from careplans import selectors, services
from careplans.chart import care_plan_panels, chart_context, chart_home_url
from careplans.diagnoses import diagnoses_to_lines
from careplans.forms import (
    CarePlanForm,
    CareTeamMemberForm,
    GoalForm,
    PatientForm,
    PlanAgreementForm,
    RelapsePlanForm,
)
from careplans.models import RELAPSE_PLAN_FIELDS, CarePlan, Goal, Patient
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from clinic.concurrency import StaleVersionError, form_rebased
from clinic.selectors import clinicians
from clinic.undo import within_undo_window


def _open_plan_or_404(patient: Patient) -> CarePlan:
    plan = selectors.open_care_plan_of(patient)
    if plan is None:
        raise Http404
    return plan


@clinical_page(action=Action.CREATE_PATIENT, methods=["GET", "POST"])
def patient_create(request: AuthenticatedRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Patient registered.")
            if user_can(request.user, Action.VIEW_CLINICAL):
                return redirect(chart_home_url(patient.public_id))
            return redirect("careplans:care_team", patient_id=patient.public_id)
    return render(request, "careplans/patient_form.html", {"form": form})


@clinical_page(action=Action.EDIT_DEMOGRAPHICS, methods=["GET", "POST"], scope="demographics")
def patient_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """Demographics: the care team and clinic admins may correct them; every change is audited."""
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        # Validation already wrote the new values onto `form.instance`; the service gets an
        # unmodified copy so the audit trail records the real before -> after.
        unchanged = selectors.patient_for_demographics(user=request.user, public_id=patient.public_id)
        try:
            services.patient_update(patient=unchanged, actor=request.user, **changes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Patient details saved.")
            return redirect("careplans:care_team", patient_id=patient.public_id)
    return render(request, "careplans/patient_form.html", {"form": form, "patient": patient})


@clinical_page()
def chart(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """The care-plan tab: the shared plan, goals, relapse-prevention plan, agreements."""
    context = chart_context(user=request.user, patient=patient, tab="care_plan")
    plan = selectors.open_care_plan_of(context["patient"])
    context |= {
        "plan": plan,
        "goals": list(selectors.goals_of(plan)) if plan else [],
        "agreements": list(plan.agreements.select_related("recorded_by")) if plan else [],
        "can_edit": user_can(request.user, Action.EDIT_CARE_PLAN),
        "panels": care_plan_panels(user=request.user, patient=context["patient"], plan=plan) if plan else [],
    }
    return render(request, "careplans/chart_care_plan.html", context)


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["POST"])
def care_plan_start(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    try:
        services.care_plan_create(patient=patient, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("careplans:care_plan_edit", patient_id=patient.public_id)


def _stale_message(request: AuthenticatedRequest, error: StaleVersionError) -> None:
    who = getattr(error.current, "updated_by", None)
    by = f" by {who}" if who else ""
    messages.error(
        request,
        f"Not saved: this plan was changed{by} while you were editing. "
        "The current version is shown below; your text is kept in the form so you can re-apply it.",
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def care_plan_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    plan = _open_plan_or_404(patient)
    initial = {
        "version": plan.version,
        "status": plan.status,
        "summary": plan.summary,
        "diagnoses": diagnoses_to_lines(plan.diagnoses),
        "review_date": plan.review_date,
    }
    form = CarePlanForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.care_plan_update(care_plan=plan, actor=request.user, version=data.pop("version"), **data)
        except StaleVersionError as error:
            _stale_message(request, error)
            conflict = cast(CarePlan, error.current)  # care_plan_update claims the plan's version
            form = form_rebased(CarePlanForm, request.POST, conflict.version)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Care plan saved.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "careplans/care_plan_form.html",
        {
            "patient": patient,
            "plan": plan,
            "form": form,
            "conflict": conflict,
            "conflict_diagnoses": diagnoses_to_lines(conflict.diagnoses) if conflict else "",
            "active_tab": "care_plan",
            "team": list(selectors.care_team_of(patient)),
        },
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def relapse_plan_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    plan = _open_plan_or_404(patient)
    relapse = getattr(plan, "relapse_plan", None)
    initial = {"version": plan.version}
    if relapse is not None:
        initial.update({name: getattr(relapse, name) for name in RELAPSE_PLAN_FIELDS})
    form = RelapsePlanForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.relapse_plan_update(care_plan=plan, actor=request.user, version=data.pop("version"), **data)
        except StaleVersionError as error:
            _stale_message(request, error)
            current = cast(CarePlan, error.current)  # the relapse plan is versioned with its care plan
            conflict = getattr(current, "relapse_plan", None)
            form = form_rebased(RelapsePlanForm, request.POST, current.version)
        else:
            messages.success(request, "Relapse-prevention plan saved.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "careplans/relapse_plan_form.html",
        {
            "patient": patient,
            "plan": plan,
            "form": form,
            "conflict": conflict,
            "active_tab": "care_plan",
            "team": list(selectors.care_team_of(patient)),
        },
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def goal_edit(request: AuthenticatedRequest, patient: Patient, goal_id: str | None = None) -> HttpResponse:
    plan = _open_plan_or_404(patient)
    goal = selectors.goal_for(user=request.user, care_plan=plan, public_id=goal_id) if goal_id else None
    initial = {}
    if goal is not None:
        initial = {
            name: getattr(goal, name) for name in ("version", "domain", "description", "target", "due_date", "status")
        }
    form = GoalForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            if goal is None:
                services.goal_create(care_plan=plan, actor=request.user, **data)
            else:
                services.goal_update(goal=goal, actor=request.user, version=version, **data)
        except StaleVersionError as error:
            _stale_message(request, error)
            conflict = cast(Goal, error.current)  # goal_update claims the goal's version
            form = form_rebased(GoalForm, request.POST, conflict.version)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Goal saved.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "careplans/goal_form.html",
        {
            "patient": patient,
            "plan": plan,
            "goal": goal,
            "status_history": list(goal.status_history.select_related("changed_by")) if goal else [],
            "form": form,
            "conflict": conflict,
            "active_tab": "care_plan",
            "team": list(selectors.care_team_of(patient)),
        },
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def agreement_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    plan = _open_plan_or_404(patient)
    form = PlanAgreementForm(request.POST or None, initial={"agreed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_agreement_record(care_plan=plan, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Agreement recorded.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "careplans/agreement_form.html",
        {"patient": patient, "form": form, "active_tab": "care_plan", "team": list(selectors.care_team_of(patient))},
    )


@clinical_page(action=Action.MANAGE_CARE_TEAM, methods=["GET", "POST"], scope="demographics")
def care_team(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """See and change a patient's care team: clinic admins and the team itself."""
    can_manage = user_can(request.user, Action.MANAGE_CARE_TEAM)
    # Nobody adds themselves (issue 12 item 1): not offered here, refused by the service.
    form = CareTeamMemberForm(request.POST or None, clinicians=clinicians().exclude(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.care_team_member_add(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Added to the care team.")
            return redirect("careplans:care_team", patient_id=patient.public_id)
    ended = selectors.ended_membership_of(patient, public_id=request.GET.get("ended", ""))
    undo = (
        ended
        if ended is not None and ended.ended_by_id == request.user.pk and within_undo_window(ended.ended_at)
        else None
    )
    return render(
        request,
        "careplans/care_team.html",
        {
            "patient": patient,
            "undo": undo,
            "team": list(selectors.care_team_of(patient)),
            "form": form,
            "can_manage": can_manage,
            "active_tab": "care_team",
            "show_tabs": user_can(request.user, Action.VIEW_CLINICAL)
            and selectors.patients_on_care_team_of(request.user).filter(pk=patient.pk).exists(),
        },
    )


@clinical_page(action=Action.MANAGE_CARE_TEAM, methods=["POST"], scope="demographics")
def care_team_end(request: AuthenticatedRequest, patient: Patient, member_id: str) -> HttpResponse:
    member = selectors.care_team_of(patient).filter(public_id=member_id).first()
    if member is None:
        raise Http404
    services.care_team_member_end(member=member, actor=request.user)
    if member.user_id == request.user.pk:
        messages.success(request, "Membership ended.")
        return redirect("careplans:caseload")
    # The care-team page answers with an undo offer for this membership (clinic.undo).
    return redirect(
        reverse("careplans:care_team", kwargs={"patient_id": patient.public_id}) + f"?ended={member.public_id}"
    )


@clinical_page(action=Action.MANAGE_CARE_TEAM, methods=["POST"], scope="demographics")
def care_team_end_undo(request: AuthenticatedRequest, patient: Patient, member_id: str) -> HttpResponse:
    member = selectors.ended_membership_of(patient, public_id=member_id)
    if member is None:
        raise Http404
    try:
        services.care_team_member_end_undo(member=member, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Undone: {member.user} is on the care team again.")
    return redirect("careplans:care_team", patient_id=patient.public_id)
