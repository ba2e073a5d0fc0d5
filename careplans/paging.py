"""Keyset paging of patient lists (issue 14: every list that grows with the clinic is bounded).

Patients are listed by name, `(family_name, given_name, id)`, an order the index
`careplans_patient_name_idx` serves, so page N costs what page 1 costs: no OFFSET and no
COUNT(*) over the whole clinic. The cursor is the public id of the last patient shown, never a
name (no PHI in URLs or access logs), and is resolved inside the caller's own visible queryset,
so an invisible patient's id tells nothing about where that patient sorts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import F, OrderBy, Q, QuerySet

NAME_ORDER = ("family_name", "given_name", "id")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# How far a list counts before it says "more than": a bounded count costs the same at 1k and 1M.
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class LeadKey:
    """A sort ahead of the name order: an annotation (or field) of the queryset, never NULL
    (Coalesce it), so a page boundary inside a run of equal values is still exact."""

    field: str
    descending: bool = False


@dataclass(frozen=True)
class KeysetPage:
    rows: Sequence[Any]
    next_after: UUID | None  # the cursor of the following page; None on the last one
    is_first: bool


def _as_uuid(value: str | None) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def after_anchor(queryset: QuerySet[Any], after: str | None, lead: LeadKey | None = None) -> QuerySet[Any]:
    """The rows of `queryset` (in `lead`, then name order) that come after the patient `after` names.

    An unknown, malformed or invisible cursor starts from the first page."""
    anchor_id = _as_uuid(after)
    order: list[str | OrderBy] = list(NAME_ORDER)
    if lead:
        order.insert(0, F(lead.field).desc() if lead.descending else F(lead.field).asc())
    ordered = queryset.order_by(*order)
    if anchor_id is None:
        return ordered
    anchored = queryset.filter(public_id=anchor_id)
    if lead:  # `lead.field` may be an alias(): it is selected under a name of its own
        anchored = anchored.annotate(lead_value=F(lead.field))
    anchor = anchored.values(*NAME_ORDER, *(["lead_value"] if lead else [])).first()
    if anchor is None:
        return ordered
    family, given, pk = anchor["family_name"], anchor["given_name"], anchor["id"]
    after_by_name = (
        Q(family_name__gt=family)
        | Q(family_name=family, given_name__gt=given)
        | Q(family_name=family, given_name=given, id__gt=pk)
    )
    if lead is None:
        return ordered.filter(after_by_name)
    value = anchor["lead_value"]
    beyond = {f"{lead.field}__{'lt' if lead.descending else 'gt'}": value}
    return ordered.filter(Q(**beyond) | (Q(**{lead.field: value}) & after_by_name))


def keyset_page(
    queryset: QuerySet[Any], *, after: str | None, size: int = PAGE_SIZE, lead: LeadKey | None = None
) -> KeysetPage:
    rows = list(after_anchor(queryset, after, lead)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows=rows,
        next_after=rows[-1].public_id if more else None,
        is_first=_as_uuid(after) is None,
    )


def bounded_count(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """(count, exact): exact up to COUNT_LIMIT; beyond it (COUNT_LIMIT, False)."""
    counted = queryset.order_by()[: COUNT_LIMIT + 1].count()
    return (counted, True) if counted <= COUNT_LIMIT else (COUNT_LIMIT, False)
