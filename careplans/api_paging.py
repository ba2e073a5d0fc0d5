"""The patient list's pagination: keyset pages with the contract's shape (issue 14; DESIGN.md).

The body stays `{count, next, previous, results}`. `next`/`previous` carry `?after=<id>` (the
last patient of the page, never a name) instead of an OFFSET, so every page costs what the first
costs; `count` is exact up to COUNT_LIMIT and then stops counting (`count_exact: false`), so a
1M-patient clinic does not COUNT(*) itself on every request. `?page=N` still answers as before
(exact count, OFFSET) for clients written against the first version of the contract.
"""

from functools import partial
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from careplans.paging import COUNT_LIMIT, MAX_PAGE_SIZE, PAGE_SIZE, bounded_count, keyset_page


class PatientPagination(BasePagination):
    after_query_param = "after"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.legacy = PageNumberPagination()

    def _size(self, request: Request) -> int:
        try:
            wanted = int(request.query_params.get(self.page_size_query_param, PAGE_SIZE))
        except ValueError:
            return PAGE_SIZE
        return max(1, min(wanted, MAX_PAGE_SIZE))

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.by_page_number = "page" in request.query_params
        if self.by_page_number:
            ordered = queryset.order_by("family_name", "given_name", "id")
            return list(self.legacy.paginate_queryset(ordered, request) or [])
        after = request.query_params.get(self.after_query_param)
        self.page = keyset_page(queryset, after=after, size=self._size(request))
        self.count, self.count_exact = bounded_count(queryset)
        return list(self.page.rows)

    def get_paginated_response(self, data: Any) -> Response:
        if self.by_page_number:
            response = self.legacy.get_paginated_response(data)
            response.data["count_exact"] = True
            return response
        url = self.request.build_absolute_uri()
        next_url = (
            replace_query_param(url, self.after_query_param, str(self.page.next_after))
            if self.page.next_after
            else None
        )
        previous_url = None if self.page.is_first else remove_query_param(url, self.after_query_param)
        return Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": next_url,
                "previous": previous_url,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": f"Exact up to {COUNT_LIMIT}; beyond that {COUNT_LIMIT} with `count_exact` false.",
                },
                "count_exact": {"type": "boolean"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The first page (keyset pages link back to the start, not one page back).",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.after_query_param,
                "required": False,
                "in": "query",
                "description": "Cursor: the id of the last patient of the previous page (from `next`).",
                "schema": {"type": "string", "format": "uuid"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Patients per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number (the first version's paging; exact count, slower on large clinics).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]


class BoundedCountPaginator(Paginator):
    """Django's paginator with the count stopped at COUNT_LIMIT (careplans.paging.bounded_count).

    Within the limit nothing changes. Beyond it the page numbers go on (`has_next` is read from
    one extra row, not from the count), so a caseload of 85,000 assessments is still paged to
    its end, and no request counts past COUNT_LIMIT rows. `count_source`: the same rows as
    `object_list`, shaped to count faster (None: count `object_list`)."""

    def __init__(self, object_list: Any, per_page: int, *args: Any, count_source: Any = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_source = count_source

    @cached_property
    def count_and_exact(self) -> tuple[int, bool]:
        counted = self.count_source if self.count_source is not None else self.object_list
        return bounded_count(counted)  # type: ignore[arg-type]  # always a QuerySet here

    @cached_property
    def count(self) -> int:
        return self.count_and_exact[0]

    def validate_number(self, number: Any) -> int:
        if self.count_and_exact[1]:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if value < 1:
            raise EmptyPage("That page number is less than 1")
        return value

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if self.count_and_exact[1]:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return _OpenEndedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class _OpenEndedPage(Page):
    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class BoundedCountPagination(PageNumberPagination):
    """`?page=N` pages with the contract's body `{count, next, previous, results}` plus
    `count_exact`, as the patient list has: the count is exact up to COUNT_LIMIT, then stops
    (issue 14: a COUNT over a whole caseload's records cost more than the page itself)."""

    django_paginator_class = BoundedCountPaginator

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        # A view may name a cheaper query of the same rows for the count (ClinicalViewSet.count_queryset):
        # a list whose page walks an index with a per-row visibility check counts faster by a join.
        counted = view.count_queryset() if view is not None and hasattr(view, "count_queryset") else None
        self.django_paginator_class = partial(BoundedCountPaginator, count_source=counted)  # type: ignore[assignment]
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator if self.page else None
        response.data["count_exact"] = (
            paginator.count_and_exact[1] if isinstance(paginator, BoundedCountPaginator) else True
        )
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            f"Exact up to {COUNT_LIMIT}; beyond that {COUNT_LIMIT} with `count_exact` false."
        )
        described["properties"]["count_exact"] = {"type": "boolean"}
        return described
