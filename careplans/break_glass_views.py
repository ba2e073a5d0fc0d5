"""Break-glass pages (issue 12 item 6): the request form (also offered on the chart's "not on
your caseload" page, clinic.views.not_found), and the clinic admins' review report."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render

from careplans import selectors
from careplans.break_glass import REASON_MAX, break_glass_hours, break_glass_open
from careplans.models import Patient
from clinic.access import Action, AuthenticatedRequest, clinical_page

REPORT_PAGE_SIZE = 50


@clinical_page(action=Action.BREAK_GLASS, methods=["GET", "POST"], scope="break_glass")
def break_glass(request: AuthenticatedRequest, patient: Patient) -> HttpResponse:
    """Ask for emergency access. Nothing about the patient is shown before the reason is given."""
    if selectors.patients_on_care_team_of(request.user).filter(pk=patient.pk).exists():
        return redirect("careplans:chart", patient_id=patient.public_id)
    reason, error = "", ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            break_glass_open(patient=patient, actor=request.user, reason=reason)
        except ValidationError as refused:
            error = " ".join(refused.message_dict.get("reason", refused.messages))
        else:
            messages.warning(request, "Emergency access opened. The care team and the clinic admins have been told.")
            return redirect("careplans:chart", patient_id=patient.public_id)
    return render(
        request,
        "careplans/break_glass.html",
        {
            "patient_id": patient.public_id,
            "reason": reason,
            "error": error,
            "hours": break_glass_hours(),
            "reason_max": REASON_MAX,
        },
        status=400 if error else 200,
    )


@clinical_page(action=Action.VIEW_AUDIT)
def break_glass_report(request: AuthenticatedRequest) -> HttpResponse:
    """Every emergency access, newest first, with who, which patient, why and until when."""
    grants = selectors.break_glass_grants_for_review(request.user)
    page = Paginator(grants, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "careplans/break_glass_report.html", {"page": page})
