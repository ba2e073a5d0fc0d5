"""Today: the landing page of every clinician (issue 16 item 1). Clinic admins, who see no
clinical content, land on the patient directory instead (their daily work: patients, teams).
Paginated (issue 14): 50 items a page, the header's counts exact for the whole worklist."""

from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
from today.worklist import PAGE_SIZE, Severity, worklist_page, worklist_sources


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@clinical_page()
def today(request: AuthenticatedRequest) -> HttpResponse:
    if not user_can(request.user, Action.VIEW_CLINICAL):
        return redirect("careplans:patient_directory")
    number = _page_number(request.GET.get("page"))
    page = worklist_page(request.user, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-page.total // PAGE_SIZE))
    if number > pages:  # a stale link after items were handled: the last page
        number = pages
        page = worklist_page(request.user, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    labels = {source.kind: source.label for source in worklist_sources()}
    return render(
        request,
        "today/today.html",
        {
            "rows": [{"item": item, "label": labels.get(item.kind, item.kind)} for item in page.items],
            "urgent": page.by_severity[Severity.URGENT],
            "total": page.total,
            "page_number": number,
            "pages": pages,
            "previous_page": number - 1 if number > 1 else None,
            "next_page": number + 1 if page.has_next else None,
            "first_shown": page.offset + 1,
            "last_shown": page.offset + len(page.items),
        },
    )
