"""The patient list's pagination: keyset pages with the contract's shape (issue 14; DESIGN.md).

The body stays `{count, next, previous, results}`. `next`/`previous` carry `?after=<id>` (the
last patient of the page, never a name) instead of an OFFSET, so every page costs what the first
costs; `count` is exact up to COUNT_LIMIT and then stops counting (`count_exact: false`), so a
1M-patient clinic does not COUNT(*) itself on every request. `?page=N` still answers as before
(exact count, OFFSET) for clients written against the first version of the contract.
"""

from typing import Any

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
