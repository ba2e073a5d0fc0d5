"""Thin HTML views: the chart's therapy tab, opening/editing a course, logging a session.

Each view: selector (404 for a patient the user may not see) -> capability check
(403: only therapists write) -> form -> service -> redirect. A form error re-renders
with what the user typed, private note included (it goes back to its author only).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from careplans.chart import chart_context
from careplans.models import Patient
from careplans.selectors import care_team_of
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from therapy import selectors, services
from therapy.charts import attendance_strip
from therapy.forms import GOAL_PREFIX, CourseEditForm, CourseForm, SessionForm
from therapy.models import TherapyCourse


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's field errors next to the form's fields; anything else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@clinical_page()
def tab(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """Courses with their attendance pattern, the session log with shared summaries, homework."""
    context = chart_context(user=request.user, patient=patient, tab="therapy")
    patient = context["patient"]
    courses = selectors.courses_of(patient)
    strips = selectors.attendance_by_course(patient)
    for course in courses:
        # Display attributes for the template, set on the row itself.
        course.strip = attendance_strip(strips.get(course.pk, []))  # type: ignore[attr-defined]
        next_due = course.next_due_after(course.last_attended or course.started_on) if course.is_open else None
        course.next_due = next_due  # type: ignore[attr-defined]
    sessions = selectors.sessions_of(patient=patient, user=request.user)
    context |= {
        "courses": courses,
        "sessions": sessions,
        "sessions_total": sum(course.sessions_logged for course in courses),
        "homework": selectors.homework_of(patient),
        "can_log": user_can(request.user, Action.LOG_THERAPY_SESSION),
        "today": timezone.localdate(),
    }
    return render(request, "therapy/chart_tab.html", context)


def _chart(patient: object, **extra: object) -> dict:
    return {"patient": patient, "team": list(care_team_of(patient)), "active_tab": "therapy", **extra}  # type: ignore[arg-type]


@clinical_page(action=Action.LOG_THERAPY_SESSION, methods=["GET", "POST"])
def course_open(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    form = CourseForm(request.POST or None, modalities=selectors.modalities(), goals=selectors.linkable_goals(patient))
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_open(patient=patient, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{course.modality.name} course opened.")
            return redirect("therapy:tab", patient_id=patient.public_id)
    return render(request, "therapy/course_form.html", _chart(patient, form=form, course=None))


@clinical_page(action=Action.LOG_THERAPY_SESSION, methods=["GET", "POST"])
def course_edit(request: AuthenticatedRequest, patient: Patient, course_id: str) -> HttpResponse:
    course = selectors.open_course_of(patient=patient, public_id=course_id)
    initial = {
        name: getattr(course, name)
        for name in ("status", "planned_frequency", "planned_sessions", "usual_duration_minutes", "usual_format")
    }
    initial["goals"] = list(course.goals.all())
    form = CourseEditForm(
        request.POST or None,
        initial=initial,
        modalities=selectors.modalities(),
        goals=selectors.linkable_goals(patient),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("usual_duration_minutes") is None:
            data["usual_duration_minutes"] = course.modality.default_duration_minutes
        try:
            services.course_update(course=course, actor=request.user, **data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Course saved.")
            return redirect("therapy:tab", patient_id=patient.public_id)
    return render(request, "therapy/course_form.html", _chart(patient, form=form, course=course))


def _session_form(request: AuthenticatedRequest, course: TherapyCourse, **kwargs: object) -> SessionForm:
    return SessionForm(
        request.POST or None,
        course=course,
        goals=course.goals.all(),
        open_homework=selectors.open_homework_of(course),
        **kwargs,
    )  # type: ignore[arg-type]


@clinical_page(action=Action.LOG_THERAPY_SESSION, methods=["GET", "POST"])
def session_log(request: AuthenticatedRequest, patient: Patient, course_id: str) -> HttpResponse:
    """The session log form, optimised for speed: defaults filled, keyboard first."""
    course = selectors.open_course_of(patient=patient, public_id=course_id)
    form = _session_form(request, course)
    duplicates: list = []
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirm_duplicate"]:
            duplicates = selectors.same_day_sessions(patient=patient, day=form.cleaned_data["session_date"])
        if not duplicates:
            try:
                session = services.session_log(course=course, actor=request.user, **form.service_fields())
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, f"Session on {session.session_date:%Y-%m-%d} logged.")
                return redirect("therapy:tab", patient_id=patient.public_id)
    return render(
        request,
        "therapy/session_form.html",
        _chart(
            patient,
            form=form,
            course=course,
            session=None,
            last_session=selectors.last_session_of(course),
            duplicates=duplicates,
        ),
    )


@clinical_page(action=Action.LOG_THERAPY_SESSION, methods=["GET", "POST"])
def session_edit(request: AuthenticatedRequest, patient: Patient, session_id: str) -> HttpResponse:
    """Correct a logged session. The private note field holds the *editor's own* note."""
    session = selectors.session_for(user=request.user, public_id=session_id)
    if session.course.patient_id != patient.pk:
        raise Http404  # a session of another patient, under this patient's URL
    course = session.course
    reviewed = next(iter(session.homework_reviewed.all()), None)
    assigned = next(iter(session.homework_assigned.all()), None)
    initial = {
        name: getattr(session, name)
        for name in (
            "session_date",
            "attendance",
            "format",
            "duration_minutes",
            "participants",
            "summary",
            "risk_level",
            "risk_note",
        )
    }
    initial |= {
        "private_note": session.own_note or "",
        "homework": assigned.description if assigned else "",
        "last_homework": reviewed.completion if reviewed else "",
    }
    initial |= {f"{GOAL_PREFIX}{row.goal.public_id}": row.progress for row in session.goal_progress.all()}
    form = SessionForm(
        request.POST or None,
        course=course,
        goals=course.goals.all(),
        open_homework=reviewed or selectors.open_homework_of(course),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            services.session_update(session=session, actor=request.user, **data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Session saved.")
            return redirect("therapy:tab", patient_id=patient.public_id)
    return render(
        request,
        "therapy/session_form.html",
        _chart(patient, form=form, course=course, session=session, last_session=None),
    )


@clinical_page(action=Action.LOG_THERAPY_SESSION, methods=["POST"])
def session_enter_in_error(request: AuthenticatedRequest, patient: Patient, session_id: str) -> HttpResponse:
    session = selectors.session_for(user=request.user, public_id=session_id)
    if session.course.patient_id != patient.pk:
        raise Http404  # a session of another patient, under this patient's URL
    try:
        services.session_enter_in_error(session=session, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("therapy:session_edit", patient_id=patient.public_id, session_id=session.public_id)
    messages.success(request, "Session marked as entered in error.")
    return redirect("therapy:tab", patient_id=patient.public_id)
