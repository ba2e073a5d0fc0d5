"""Today: the landing page of every clinician (issue 16 item 1). Clinic admins, who see no
clinical content, land on the patient directory instead (their daily work: patients, teams)."""

from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from today.worklist import Severity, worklist_for, worklist_sources


@clinical_page()
def today(request: AuthenticatedRequest) -> HttpResponse:
    if not user_can(request.user, Action.VIEW_CLINICAL):
        return redirect("careplans:patient_directory")
    items = worklist_for(request.user)
    labels = {source.kind: source.label for source in worklist_sources()}
    counts = {severity: sum(1 for item in items if item.severity == severity) for severity in Severity}
    return render(
        request,
        "today/today.html",
        {
            "rows": [{"item": item, "label": labels.get(item.kind, item.kind)} for item in items],
            "urgent": counts[Severity.URGENT],
            "total": len(items),
        },
    )
