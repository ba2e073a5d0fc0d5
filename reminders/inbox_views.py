"""The inbox page and its row actions, and the clinic admin's reminder-delivery page.

Plain POST forms that work without JavaScript (post, redirect, get); with htmx the same
form posts in place and gets back the updated row plus the header badge (out of band).
"""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from clinic.access import Action, AuthenticatedRequest, clinical_page
from reminders import delivery, inbox
from reminders.models import Reminder, ReminderStatus

PAGE_SIZE = 100  # PF-1: a page never lists more than 100 rows


def _view_name(request: AuthenticatedRequest) -> str:
    view = request.GET.get("view", "open")
    return view if view in inbox.INBOX_VIEWS else "open"


def _decorate(rows: list[Reminder], today: date, errors: dict[str, dict[str, str]] | None = None) -> list[Reminder]:
    for row in rows:
        error = (errors or {}).get(str(row.public_id), {})
        row.row_error = error.get("message", "")  # type: ignore[attr-defined]
        row.row_until = error.get("until", "")  # type: ignore[attr-defined]
        row.link = inbox.reminder_link(row)  # type: ignore[attr-defined]
        row.is_open = row.status in inbox.OPEN_STATUSES or (  # type: ignore[attr-defined]
            row.status == ReminderStatus.SNOOZED and row.snoozed_until is not None and row.snoozed_until <= today
        )
    return rows


def _tab_counts(request: AuthenticatedRequest, today: date) -> dict[str, int]:
    """Open / snoozed / done counts for the tabs, in one aggregate query."""
    rows = inbox.reminders_of(request.user)
    return rows.aggregate(
        open=Count(
            "id",
            filter=Q(status__in=inbox.OPEN_STATUSES, due_date__lte=today)
            | Q(status=ReminderStatus.SNOOZED, snoozed_until__lte=today)
            | Q(status=ReminderStatus.ACKNOWLEDGED, due_date__lte=today),
        ),
        snoozed=Count("id", filter=Q(status=ReminderStatus.SNOOZED, snoozed_until__gt=today)),
        done=Count("id", filter=Q(status=ReminderStatus.DONE)),
    )


def _page_context(request: AuthenticatedRequest, *, view: str, errors: dict | None = None) -> dict:
    today = timezone.localdate()
    paginator = Paginator(inbox.inbox_for(request.user, view=view, today=today), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return {
        "page": page,
        "reminders": _decorate(list(page.object_list), today, errors),
        "view": view,
        "counts": _tab_counts(request, today),
        "today": today,
        "tomorrow": today + timedelta(days=1),
    }


@clinical_page()
def inbox_page(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "reminders/inbox.html", _page_context(request, view=_view_name(request)))


def _row_response(
    request: AuthenticatedRequest, reminder: Reminder, *, error: str = "", until: str = "", undo: bool = False
) -> HttpResponse:
    today = timezone.localdate()
    _decorate([reminder], today, {str(reminder.public_id): {"message": error, "until": until}})
    reminder.can_undo = undo  # type: ignore[attr-defined]
    return render(
        request,
        "reminders/_inbox_row_response.html",
        {"r": reminder, "today": today, "tomorrow": today + timedelta(days=1), "view": _view_name_posted(request)},
    )


def _view_name_posted(request: AuthenticatedRequest) -> str:
    view = request.POST.get("view", "open")
    return view if view in inbox.INBOX_VIEWS else "open"


def _back(request: AuthenticatedRequest) -> HttpResponse:
    view = _view_name_posted(request)
    response = redirect("reminders:inbox")
    if view != "open":
        response["Location"] += f"?view={view}"
    return response


def _act(request: AuthenticatedRequest, reminder_id: str, action: str) -> HttpResponse:
    reminder = inbox.reminder_for(user=request.user, public_id=reminder_id)
    until_raw = request.POST.get("until", "").strip()
    try:
        if action == "acknowledge":
            reminder = inbox.reminder_acknowledge(reminder=reminder, actor=request.user)
            done_message = "Reminder acknowledged."
        elif action == "snooze":
            try:
                until = date.fromisoformat(until_raw) if until_raw else None
            except ValueError:
                raise ValidationError({"until": "Enter a date as YYYY-MM-DD."}) from None
            reminder = inbox.reminder_snooze(reminder=reminder, actor=request.user, until=until)
            done_message = f"Snoozed until {reminder.snoozed_until:%Y-%m-%d}."
        elif action == "undo_done":
            reminder = inbox.reminder_undo_done(reminder=reminder, actor=request.user)
            done_message = "Undone: the reminder is back in your list."
        else:
            reminder = inbox.reminder_complete(reminder=reminder, actor=request.user)
            done_message = "Reminder marked done."
    except ValidationError as error:
        text = " ".join(
            error.message_dict.get("until", error.message_dict.get("status", error.messages))
            if hasattr(error, "error_dict")
            else error.messages
        )
        if request.htmx:
            return _row_response(request, reminder, error=text, until=until_raw)
        context = _page_context(
            request,
            view=_view_name_posted(request),
            errors={str(reminder.public_id): {"message": text, "until": until_raw}},
        )
        if all(row.public_id != reminder.public_id for row in context["reminders"]):
            messages.error(request, text)  # the row is not on this page: say it at the top
        return render(request, "reminders/inbox.html", context, status=400)
    if request.htmx:
        # Just marked done: the answering row offers an undo; a reload shows the plain row (clinic.undo).
        return _row_response(request, reminder, undo=action == "done")
    messages.success(request, done_message)
    return _back(request)


@clinical_page(methods=["POST"])
def reminder_acknowledge(request: AuthenticatedRequest, reminder_id: str) -> HttpResponse:
    return _act(request, reminder_id, "acknowledge")


@clinical_page(methods=["POST"])
def reminder_snooze(request: AuthenticatedRequest, reminder_id: str) -> HttpResponse:
    return _act(request, reminder_id, "snooze")


@clinical_page(methods=["POST"])
def reminder_complete(request: AuthenticatedRequest, reminder_id: str) -> HttpResponse:
    return _act(request, reminder_id, "done")


@clinical_page(methods=["POST"])
def reminder_undo_done(request: AuthenticatedRequest, reminder_id: str) -> HttpResponse:
    return _act(request, reminder_id, "undo_done")


@clinical_page(action=Action.VIEW_AUDIT)
def reminder_delivery(request: AuthenticatedRequest) -> HttpResponse:
    """Clinic admins: is the outbox flowing? Counts and reminder ids only, never patients (CE-6)."""
    return render(request, "reminders/reminder_delivery.html", {"status": delivery.delivery_status()})


@clinical_page(action=Action.VIEW_AUDIT, methods=["POST"])
def reminder_delivery_retry(request: AuthenticatedRequest) -> HttpResponse:
    """Clinic admins: put every `failed` reminder back to pending with a fresh set of attempts;
    the next sweep e-mails them (as `manage.py retry_failed_reminders` does)."""
    retried = delivery.reminders_retry_failed()
    if retried:
        messages.success(request, f"{retried} failed reminder{'s' if retried != 1 else ''} will be e-mailed again.")
    else:
        messages.info(request, "No failed reminders to retry.")
    return redirect("reminders:reminder_delivery")
