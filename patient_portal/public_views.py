"""The pages a patient opens from a link: no login, no patient data beyond what the link is for.

A questionnaire or check-in page shows no name, no clinic and no score; the take-home plan shows
the plan itself (the reason for the link) but still no name. Every response: noindex, no-store,
no referrer (the token is in the URL), the site CSP. These views are not `clinical_page`s: the
token is the only credential, and it grants this one page and its form, nothing else.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from clinic.throttles import client_address
from outcomes.instruments import INSTRUMENTS, phq9
from patient_portal import links, submissions, take_home
from patient_portal.models import LinkPurpose, MedicationTaken, PatientLink

View = Callable[..., HttpResponse]


def patient_facing(view: View) -> View:
    """The headers every patient page carries (issue 17 Security)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    wrapped.patient_link_page = True  # type: ignore[attr-defined]  # found by the link walk test
    return wrapped


def _failure_page(request: HttpRequest, error: Exception) -> HttpResponse:
    if isinstance(error, links.LinkGone):
        return render(request, "patient_portal/public_message.html", {"message": str(error)}, status=410)
    if isinstance(error, links.LinkThrottled):
        return render(request, "patient_portal/public_message.html", {"message": links.THROTTLED_MESSAGE}, status=429)
    return render(request, "patient_portal/public_message.html", {"message": links.NOT_FOUND_MESSAGE}, status=404)


# No CSRF check: the page has no ambient credential (no session, no cookie) for a forged request to
# borrow; the unguessable token in the URL is the credential. (With `Referrer-Policy: no-referrer`
# browsers send `Origin: null`, which Django's origin check would refuse.)
@csrf_exempt
@patient_facing
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        link = links.link_resolve(token, address=client_address(request))
    except (links.LinkGone, links.LinkNotFound, links.LinkThrottled) as error:
        return _failure_page(request, error)
    if link.purpose == LinkPurpose.TAKE_HOME:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        links.link_opened(link)
        plan = take_home.take_home_plan(link.patient)
        return render(request, "patient_portal/public_take_home.html", {"plan": plan, "expires_at": link.expires_at})
    if request.method == "POST":
        return _submit(request, token, link)
    links.link_opened(link)
    return _form_page(request, link, answers={}, errors={})


def _form_page(
    request: HttpRequest, link: PatientLink, *, answers: dict, errors: dict, status: int = 200
) -> HttpResponse:
    if link.purpose == LinkPurpose.QUESTIONNAIRE:
        instrument = INSTRUMENTS[link.instrument]
        items = [
            {
                "number": item.number,
                "text": item.text,
                "answer": answers.get(item.number),
                "name": f"item_{item.number}",
            }
            for item in instrument.items
        ]
        context = {
            "instrument": instrument,
            "items": items,
            "errors": errors,
            "safety_item": phq9.SAFETY_ITEM if link.instrument == phq9.INSTRUMENT.code else None,
        }
        return render(request, "patient_portal/public_questionnaire.html", context, status=status)
    context = {
        "answers": answers,
        "errors": errors,
        "moods": range(11),
        "medication_choices": MedicationTaken.choices,
    }
    return render(request, "patient_portal/public_check_in.html", context, status=status)


def _answer(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return -1  # out of range: scoring names the item


def _submit(request: HttpRequest, token: str, link: PatientLink) -> HttpResponse:
    address = client_address(request)
    answers: dict[Any, Any] = {}
    try:
        if link.purpose == LinkPurpose.QUESTIONNAIRE:
            instrument = INSTRUMENTS[link.instrument]
            answers = {item.number: _answer(request.POST.get(f"item_{item.number}")) for item in instrument.items}
            result = submissions.questionnaire_submit(
                token=token, responses=[answers[item.number] for item in instrument.items], address=address
            )
            return render(request, "patient_portal/public_done.html", {"crisis": result.crisis_resources.splitlines()})
        data = {name: request.POST.get(name, "") for name in submissions.CHECK_IN_FIELDS}
        answers = data
        submissions.check_in_submit(token=token, data=data, address=address)
        return render(request, "patient_portal/public_done.html", {"crisis": [], "check_in": True})
    except (links.LinkGone, links.LinkNotFound, links.LinkThrottled) as error:
        return _failure_page(request, error)
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        return _form_page(request, link, answers=answers, errors=errors, status=400)
