"""What every paged, searchable patient list page shares (careplans' caseload, directory and
search; outcomes' measurement-based care caseload): the `?q=` it reads, the audit of a search,
and the pager's links (templates/careplans/_pager.html).

A search is audited with the ids it showed, never the words typed (SECURITY.md AL-1).
"""

from typing import Any

from careplans.paging import KeysetPage
from clinic.access import AuthenticatedRequest
from clinic.audit import audit_record
from clinic.models import AuditAction, User

QUERY_MAX = 100


def search_query(request: AuthenticatedRequest) -> str:
    return " ".join(request.GET.get("q", "").split())[:QUERY_MAX]


def search_audited(user: User, page: KeysetPage, where: str) -> None:
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        object_type="careplans.patient",
        object_id=where,
        changes={"matches": [str(p.public_id) for p in page.rows]},
    )


def page_context(request: AuthenticatedRequest, page: KeysetPage, **extra: Any) -> dict[str, Any]:
    """`page`, its `patients`, and the query strings of the first and the next page (every other
    parameter kept: filters, search, sort)."""
    params = request.GET.copy()
    params.pop("after", None)
    next_params = params.copy()
    if page.next_after:
        next_params["after"] = str(page.next_after)
    return {
        "page": page,
        "patients": page.rows,
        "first_page_query": params.urlencode(),
        "next_page_query": next_params.urlencode() if page.next_after else "",
        **extra,
    }
