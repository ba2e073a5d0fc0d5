"""The care team's pages for patient links: the chart's Patient links tab, creating (with a QR
code) and revoking links, the check-in schedule, the safety plan editor, measured goal targets,
and the printable take-home plan (issue 16 item 6)."""

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from careplans.chart import chart_context
from careplans.models import Patient
from careplans.selectors import goals_of, open_care_plan_of
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from clinic.audit import audit_record
from clinic.concurrency import StaleVersionError
from clinic.models import AuditAction
from patient_portal import links, safety_plans, selectors, take_home, targets
from patient_portal.forms import GoalTargetForm, LinkForm, SafetyPlanForm, ScheduleForm
from patient_portal.models import SAFETY_PLAN_FIELDS, CheckInSchedule, LinkPurpose, PatientLink

CHECK_INS_SHOWN = 30


def _qr_data_uri(url: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images, not inline styles)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@clinical_page()
def tab(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="patient_portal")
    plan = open_care_plan_of(patient)
    goals = list(goals_of(plan)) if plan else []
    progress = targets.targets_of(patient, goals)
    schedule = selectors.active_schedule_of(patient)
    context |= {
        "links": links.links_of(patient),
        "check_ins": list(selectors.check_ins_of(patient)[:CHECK_INS_SHOWN]),
        "schedule": schedule,
        "schedule_form": ScheduleForm(initial={"frequency": schedule.frequency if schedule else ""}),
        "safety_plan": safety_plans.safety_plan_of(patient),
        "safety_reviewed_on": safety_plans.last_reviewed_on(patient),
        "goals": [{"goal": g, "progress": progress.get(g.pk)} for g in goals],
        "link_form": LinkForm(initial={"purpose": LinkPurpose.QUESTIONNAIRE, "instrument": "PHQ-9"}),
        "can_send_questionnaire": user_can(request.user, Action.ENTER_ASSESSMENT),
        "can_edit": user_can(request.user, Action.EDIT_CARE_PLAN),
    }
    return render(request, "patient_portal/tab.html", context)


@clinical_page(methods=["POST"])
def link_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """The token exists in clear only in this response: the URL and its QR code, shown once."""
    form = LinkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = links.link_create(
                patient=patient,
                actor=request.user,
                purpose=data["purpose"],
                instrument=data.get("instrument") or "",
                days=data.get("days"),
                email=data.get("email", False),
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            context = chart_context(user=request.user, patient=patient, tab="patient_portal")
            context |= {"created": created, "qr": _qr_data_uri(created.url)}
            return render(request, "patient_portal/link_created.html", context)
    for problems in form.errors.values():
        messages.error(request, " ".join(str(problem) for problem in problems))
    return redirect("patient_portal:tab", patient_id=patient.public_id)


@clinical_page(methods=["POST"])
def link_revoke(request: AuthenticatedRequest, patient: Patient, link_id: str) -> HttpResponse:
    link = PatientLink.objects.filter(patient=patient, public_id=link_id).first() if _is_uuid(link_id) else None
    if link is None:
        raise Http404
    try:
        links.link_revoke(link=link, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Link revoked: it no longer opens.")
    return redirect("patient_portal:tab", patient_id=patient.public_id)


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["POST"])
def schedule_set(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose daily, weekly or no schedule.")
        return redirect("patient_portal:tab", patient_id=patient.public_id)
    frequency = form.cleaned_data["frequency"]
    with transaction.atomic():
        current = CheckInSchedule.objects.select_for_update().filter(patient=patient, active=True).first()
        before = current.frequency if current else None
        if current and current.frequency != frequency:
            current.active, current.ended_at = False, timezone.now()
            current.save(update_fields=["active", "ended_at", "updated_at"])
        if frequency and (current is None or current.frequency != frequency):
            current = CheckInSchedule.objects.create(patient=patient, frequency=frequency, set_by=request.user)
        if before != (frequency or None):
            audit_record(
                actor=request.user,
                action=AuditAction.UPDATE,
                object_type=CheckInSchedule._meta.label_lower,
                object_id=str(current.public_id) if current else "",
                patient_id=patient.public_id,
                changes={"frequency": [before, frequency or None]},
            )
    if frequency and not patient.email:
        messages.warning(request, "Schedule saved. The patient has no e-mail: send check-in links from this page.")
    else:
        messages.success(request, "Check-in schedule saved.")
    return redirect("patient_portal:tab", patient_id=patient.public_id)


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def safety_plan_edit(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="patient_portal")
    plan = safety_plans.safety_plan_of(patient)
    initial = {name: getattr(plan, name) for name in SAFETY_PLAN_FIELDS} if plan else {}
    initial |= {"version": plan.version if plan else 0, "agreed_on": plan.agreed_on if plan else None}
    form = SafetyPlanForm(request.POST or None, initial=initial)
    stale = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            safety_plans.safety_plan_save(
                patient=patient,
                actor=request.user,
                version=data.get("version"),
                changes={name: data.get(name, "") for name in SAFETY_PLAN_FIELDS},
                agreed_on=data.get("agreed_on"),
            )
        except StaleVersionError as error:
            stale = error.current
            rebased = request.POST.copy()
            rebased["version"] = str(stale.version)  # type: ignore[attr-defined]
            form = SafetyPlanForm(rebased)
            form.is_valid()
            form.add_error(
                None,
                "Someone saved the safety plan since you opened it. Their version is shown below; "
                "saving again keeps your text.",
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Safety plan saved as a new version.")
            return redirect("patient_portal:tab", patient_id=patient.public_id)
    versions = list(plan.versions.select_related("saved_by")[:10]) if plan else []
    return render(
        request,
        "patient_portal/safety_plan_form.html",
        context | {"form": form, "plan": plan, "versions": versions, "stale": stale},
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["GET", "POST"])
def goal_target_edit(request: AuthenticatedRequest, patient: Patient, goal_id: str) -> HttpResponse:
    plan = open_care_plan_of(patient)
    goal = goals_of(plan).filter(public_id=goal_id).first() if plan and _is_uuid(goal_id) else None
    if goal is None:
        raise Http404
    context = chart_context(user=request.user, patient=patient, tab="patient_portal")
    existing = targets.GoalTarget.objects.filter(goal=goal).first()
    initial = (
        {"measure": existing.measure, "direction": existing.direction, "value": existing.value} if existing else {}
    )
    form = GoalTargetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            targets.target_set(goal=goal, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, "Measured target saved.")
            return redirect("patient_portal:tab", patient_id=patient.public_id)
    return render(request, "patient_portal/goal_target_form.html", context | {"form": form, "goal": goal})


@clinical_page()
def plan_print(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """The printable take-home plan (issue 16 item 6): plain language, print CSS, audited as a print."""
    plan = take_home.take_home_plan(patient)
    with transaction.atomic():
        audit_record(actor=request.user, action=AuditAction.PRINT, obj=patient, patient_id=patient.public_id)
    return render(request, "patient_portal/print_plan.html", {"patient": patient, "plan": plan})
