"""Thin HTML views: the chart's Overview tab (summary + integrated timeline), questionnaire
entry and detail, the safety follow-up, case review, and the measurement-based care caseload.

Each view: chart_context / selector (404 for what the user may not see) -> capability
check (403; the page hides the button) -> form -> service -> redirect. A form error
re-renders with what the user typed (STYLE.md rule 9).
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from careplans import case_reviews
from careplans.chart import chart_context
from careplans.list_pages import page_context, search_audited, search_query
from careplans.models import Patient
from careplans.selectors import open_care_plan_of
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from clinic.models import User
from outcomes import selectors, services
from outcomes.cssrs import PREAMBLE as CSSRS_PREAMBLE
from outcomes.forms import (
    AssessmentForm,
    CaseReviewFlagForm,
    CaseReviewRecordForm,
    CssrsForm,
    SafetyAlertRecipientsForm,
    SafetyFollowUpForm,
)
from outcomes.instruments import BY_SLUG, INSTRUMENTS, phq9
from outcomes.models import CssrsTriage, SafetyAlertRecipients
from outcomes.timeline import ScorePoint, timeline_build

RECENT_ASSESSMENTS = 12


def _permissions(user: User) -> dict[str, bool]:
    return {
        "can_enter": user_can(user, Action.ENTER_ASSESSMENT),
        "can_follow_up": user_can(user, Action.RECORD_SAFETY_FOLLOW_UP),
        "can_flag": user_can(user, Action.FLAG_CASE_REVIEW),
        "can_review": user_can(user, Action.RECORD_CASE_REVIEW),
        "can_edit_plan": user_can(user, Action.EDIT_CARE_PLAN),
    }


@clinical_page()
def tab(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """Overview: per-instrument treat-to-target summary and the integrated timeline."""
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    today = timezone.localdate()
    assessments = list(selectors.assessments_of(patient).order_by("administered_on", "created_at", "id"))
    summaries = selectors.outcome_summaries(
        assessments=assessments, episode_start=selectors.episode_start_of(patient), today=today
    )
    detail = reverse(
        "outcomes:assessment_detail",
        kwargs={"patient_id": patient.public_id, "assessment_id": "00000000-0000-0000-0000-000000000000"},
    )
    points = [
        ScorePoint(
            day=a.administered_on,
            instrument=a.instrument,
            total=a.total_score,
            severity=a.severity,
            url=detail.replace("00000000-0000-0000-0000-000000000000", str(a.public_id)),
            source=a.source,
        )
        for a in assessments
    ]
    timeline = timeline_build(
        scores=points,
        doses=selectors.dose_events_of(patient),
        sessions=selectors.session_events_of(patient),
        check_ins=selectors.check_in_events_of(patient),
        today=today,
    )
    context |= {
        "summaries": [summaries[code] for code in summaries if summaries[code].count or code != "WSAS"],
        "timeline": timeline,
        "recent": list(reversed(assessments[-RECENT_ASSESSMENTS:])),
        "assessment_total": len(assessments),
        "instruments": list(INSTRUMENTS.values()),
        "open_review": case_reviews.open_case_review_of(patient),
        **_permissions(request.user),
    }
    return render(request, "outcomes/overview.html", context)


@clinical_page(action=Action.ENTER_ASSESSMENT, methods=["GET", "POST"])
def assessment_create(request: AuthenticatedRequest, patient: Patient, instrument: str) -> HttpResponse:
    definition = BY_SLUG.get(instrument)
    if definition is None:
        raise Http404
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    form = AssessmentForm(
        request.POST or None, instrument=definition, initial={"administered_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_record(
                patient=patient,
                actor=request.user,
                instrument=definition.code,
                responses=form.responses(),
                administered_on=form.cleaned_data["administered_on"],
            )
        except ValidationError as error:
            form.add_error(None, _for_form(error))
        else:
            if assessment.safety_item_positive:
                next_step = (
                    "Record the risk follow-up today."
                    if user_can(request.user, Action.RECORD_SAFETY_FOLLOW_UP)
                    else "They record the risk follow-up."
                )
                messages.warning(
                    request,
                    f"Item 9 was answered above 0: the care team has been alerted. {next_step} "
                    "Ask the C-SSRS screener now (the link is in the safety banner).",
                )
            else:
                messages.success(
                    request, f"{definition.code} saved: {assessment.total_score} ({assessment.severity_label.lower()})."
                )
            return redirect("outcomes:tab", patient_id=patient.public_id)
    return render(
        request,
        "outcomes/assessment_form.html",
        context | {"form": form, "instrument": definition, "safety_item": phq9.SAFETY_ITEM},
    )


def _for_form(error: ValidationError) -> ValidationError:
    """Service errors on `responses`/`instrument` have no form field: show them at the top."""
    if not hasattr(error, "error_dict"):
        return error
    fields = {"administered_on"}
    return ValidationError({(k if k in fields else "__all__"): v for k, v in error.error_dict.items()})


@clinical_page()
def assessment_detail(request: AuthenticatedRequest, patient: Patient, assessment_id: str) -> HttpResponse:
    """The item-level answers of one questionnaire."""
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    assessment = selectors.assessment_for(user=request.user, public_id=assessment_id, patient=context["patient"])
    alert = getattr(assessment, "safety_alert", None) if assessment.safety_item_positive else None
    # CLINICAL.md b4: a positive item 9 needs a same-encounter risk assessment; offer the C-SSRS.
    offer_cssrs = bool(alert) and user_can(request.user, Action.ENTER_ASSESSMENT)
    return render(
        request,
        "outcomes/assessment_detail.html",
        context
        | {
            "assessment": assessment,
            "items": assessment.item_answers(),
            "alert": alert,
            "offer_cssrs": offer_cssrs,
            "can_enter": user_can(request.user, Action.ENTER_ASSESSMENT),
            "safety_item": phq9.SAFETY_ITEM if assessment.instrument == "PHQ-9" else None,
        },
    )


@clinical_page(action=Action.ENTER_ASSESSMENT, methods=["POST"])
def assessment_enter_in_error(request: AuthenticatedRequest, patient: Patient, assessment_id: str) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    assessment = selectors.assessment_for(user=request.user, public_id=assessment_id, patient=context["patient"])
    try:
        services.assessment_enter_in_error(
            assessment=assessment, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(
            "outcomes:assessment_detail", patient_id=context["patient"].public_id, assessment_id=assessment.public_id
        )
    messages.success(
        request,
        f"{assessment.instrument} of {assessment.administered_on:%Y-%m-%d} marked entered "
        "in error; it no longer counts in the summary or the timeline.",
    )
    return redirect("outcomes:tab", patient_id=context["patient"].public_id)


@clinical_page()
def assessment_list(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    assessments = selectors.assessments_of(context["patient"]).order_by("-administered_on", "-created_at", "-id")
    page = Paginator(assessments, 50).get_page(request.GET.get("page"))
    return render(request, "outcomes/assessment_list.html", context | {"page": page})


@clinical_page(action=Action.RECORD_SAFETY_FOLLOW_UP, methods=["GET", "POST"])
def safety_follow_up(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    open_alerts = selectors.open_safety_alerts_of(patient)
    form = SafetyFollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.safety_follow_up_record(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Risk follow-up recorded; the safety alert is closed.")
            return redirect("outcomes:tab", patient_id=patient.public_id)
    return render(
        request,
        "outcomes/safety_follow_up_form.html",
        context
        | {"form": form, "open_alerts": open_alerts, "history": list(selectors.safety_follow_ups_of(patient)[:5])},
    )


@clinical_page(action=Action.FLAG_CASE_REVIEW, methods=["GET", "POST"])
def case_review_flag(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    form = CaseReviewFlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case_reviews.case_review_flag(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, _flag_error(error))
        else:
            messages.success(request, "Flagged for discussion at the next case review.")
            return redirect("outcomes:tab", patient_id=patient.public_id)
    return render(request, "outcomes/case_review_flag_form.html", context | {"form": form})


def _flag_error(error: ValidationError) -> Any:
    if hasattr(error, "error_dict") and "patient" in error.error_dict:
        return ValidationError(error.error_dict["patient"])
    return error


@clinical_page(action=Action.RECORD_CASE_REVIEW, methods=["GET", "POST"])
def case_review_record(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    form = CaseReviewRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case_reviews.case_review_record(
                patient=patient,
                actor=request.user,
                summary=form.cleaned_data["summary"],
                recommendations=form.recommendations(),
            )
        except ValidationError as error:
            form.add_error(None, ValidationError(error.messages))
        else:
            messages.success(request, "Case review recorded; its recommendations are on the care plan.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "outcomes/case_review_record_form.html",
        context
        | {
            "form": form,
            "open_review": case_reviews.open_case_review_of(patient),
            "summaries": selectors.patient_outcome_summaries(patient=patient).values(),
            "has_plan": open_care_plan_of(patient) is not None,
        },
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["POST"])
def task_complete(request: AuthenticatedRequest, patient: Patient, task_id: str) -> HttpResponse:
    context = chart_context(user=request.user, patient=patient, tab="care_plan")
    plan = open_care_plan_of(context["patient"])
    if plan is None:
        raise Http404
    task = case_reviews.task_for(user=request.user, plan=plan, public_id=task_id)
    try:
        case_reviews.care_plan_task_complete(task=task, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Task marked done.")
    return redirect("careplans:chart", patient_id=context["patient"].public_id)


@clinical_page()
def caseload(request: AuthenticatedRequest) -> HttpResponse:
    """Measurement-based care: one page of my caseload with treat-to-target flags, sortable by
    the column headings, searchable (careplans' pager and search box, careplans/list_pages.py)."""
    if not user_can(request.user, Action.VIEW_CLINICAL):
        raise Http404
    sort = request.GET.get("sort", selectors.CASELOAD_SORT_DEFAULT)
    if sort not in selectors.CASELOAD_SORTS:
        sort = selectors.CASELOAD_SORT_DEFAULT
    query = search_query(request)
    result = selectors.caseload_outcomes_page(user=request.user, sort=sort, query=query, after=request.GET.get("after"))
    if query:
        search_audited(request.user, result.page, "mbc_caseload")
    # A heading keeps the search and starts from the first page of its order.
    sort_links = {key: urlencode({**({"q": query} if query else {}), "sort": key}) for key in selectors.CASELOAD_SORTS}
    context = page_context(request, result.page, rows=result.rows, sort=sort, query=query, sort_links=sort_links)
    return render(request, "outcomes/caseload.html", context)


@clinical_page(action=Action.ENTER_ASSESSMENT, methods=["GET", "POST"])
def cssrs_create(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """The C-SSRS screener, since-last-contact version (CLINICAL.md b5), offered after a positive
    PHQ-9 item 9. Any yes opens a safety alert; the result page shows the Columbia triage."""
    context = chart_context(user=request.user, patient=patient, tab="outcomes")
    patient = context["patient"]
    form = CssrsForm(request.POST or None, initial={"screened_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            screen = services.cssrs_screen_record(
                patient=patient,
                actor=request.user,
                answers=form.answers(),
                screened_on=form.cleaned_data["screened_on"],
            )
        except ValidationError as error:
            _errors_on_fields(form, error)
        else:
            if screen.triage == CssrsTriage.HIGH:
                messages.error(
                    request,
                    "C-SSRS: high risk. Keep the patient safe and arrange a same-day mental-health evaluation "
                    "for possible hospitalisation (Columbia triage). The care team has been alerted.",
                )
            elif screen.positive:
                messages.warning(
                    request,
                    f"C-SSRS: {screen.get_triage_display().lower()}. The care team has been alerted; record the risk "
                    "follow-up (outpatient referral and crisis lines per clinical judgment).",
                )
            else:
                messages.success(
                    request, "C-SSRS: no suicidal ideation or behaviour reported. Open safety alerts stay open."
                )
            return redirect("outcomes:tab", patient_id=patient.public_id)
    return render(
        request,
        "outcomes/cssrs_form.html",
        context
        | {
            "form": form,
            "preamble": CSSRS_PREAMBLE,
            "first_questions": form.question_fields(follow_up=False)[:2],
            "follow_up_questions": form.question_fields(follow_up=True),
            "behaviour_question": form.question_fields(follow_up=False)[2],
        },
    )


def _errors_on_fields(form: CssrsForm, error: ValidationError) -> None:
    """The skip rule names a question: show the error on that question (nothing typed is lost)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@clinical_page(action=Action.CONFIGURE_CATALOGS, methods=["GET", "POST"])
def safety_alert_recipients(request: AuthenticatedRequest) -> HttpResponse:
    """Clinic setting: which care-team roles a safety alert goes to (clinic admins)."""
    current = SafetyAlertRecipients.current()
    form = SafetyAlertRecipientsForm(request.POST or None, initial={"roles": current.roles()})
    if request.method == "POST" and form.is_valid():
        services.safety_alert_recipients_update(actor=request.user, roles=form.cleaned_data["roles"])
        messages.success(request, "Safety alert recipients saved.")
        return redirect("outcomes:safety_alert_recipients")
    return render(request, "outcomes/safety_alert_recipients.html", {"form": form})


# --- Registry hooks (wired in OutcomesConfig.ready) --------------------------------------


def safety_banner(*, patient: Any, user: User) -> dict[str, Any] | None:
    """The banner on every chart tab while a safety alert is open."""
    alerts = selectors.open_safety_alerts_of(patient)
    if not alerts:
        return None
    return {
        "template": "outcomes/_safety_banner.html",
        "context": {
            "patient": patient,
            "alerts": alerts,
            "high_risk": any(alert.high_risk for alert in alerts),
            "can_follow_up": user_can(user, Action.RECORD_SAFETY_FOLLOW_UP),
            "offer_cssrs": selectors.cssrs_offered(patient, alerts) and user_can(user, Action.ENTER_ASSESSMENT),
        },
    }


def care_plan_panel_context(*, user: User, patient: Any, plan: Any) -> dict[str, Any]:
    """Open tasks and the latest case review, on the care-plan tab."""
    reviews = list(case_reviews.case_reviews_of(patient)[:2])
    return {
        "patient": patient,
        "plan": plan,
        "tasks": list(case_reviews.open_tasks_of(plan)) if plan else [],
        "open_review": next((r for r in reviews if r.status == "requested"), None),
        "last_review": next((r for r in reviews if r.status == "completed"), None),
        **_permissions(user),
    }
