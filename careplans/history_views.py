"""The care plan's history page and "restore this version" (issue 16 item 4)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from careplans import selectors, services
from careplans.history import history_entries
from careplans.models import Patient
from careplans.views import _open_plan_or_404
from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from clinic.concurrency import StaleVersionError

HISTORY_LIMIT = 200  # versions shown; a plan edited daily for half a year fits


@clinical_page()
def care_plan_history(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    plan = _open_plan_or_404(patient)
    versions = list(selectors.care_plan_versions(plan)[: HISTORY_LIMIT + 1])
    entries = history_entries(versions)[:HISTORY_LIMIT]
    return render(
        request,
        "careplans/care_plan_history.html",
        {
            "patient": patient,
            "plan": plan,
            "entries": entries,
            "truncated": len(versions) > HISTORY_LIMIT,
            "can_edit": user_can(request.user, Action.EDIT_CARE_PLAN),
            "active_tab": "care_plan",
            "team": list(selectors.care_team_of(patient)),
        },
    )


@clinical_page(action=Action.EDIT_CARE_PLAN, methods=["POST"])
def care_plan_restore(request: AuthenticatedRequest, patient: Patient, version: int) -> HttpResponse:
    """Save version `version`'s text as a new version, if the plan is still at the version the
    user saw (the form's `version`); otherwise nothing changes and the page says why (CC-1)."""
    plan = _open_plan_or_404(patient)
    try:
        seen = int(request.POST.get("version", ""))
    except ValueError:
        seen = None
    try:
        restored = services.care_plan_restore(care_plan=plan, actor=request.user, version=seen, from_version=version)
    except StaleVersionError:
        messages.error(
            request,
            f"Not restored: the plan was changed while you were looking at its history. "
            f"Check the newest version below, then restore version {version} again if you still want it.",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Version {version}'s text restored as version {restored.version}.")
    return redirect("careplans:care_plan_history", patient_id=patient.public_id)
