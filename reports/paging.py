"""One page of a care-team list (SECURITY.md PF-1: a page lists at most PAGE_SIZE rows; the CSV
export, `paginate=False`, has them all). A list fetches its rows with `COUNT(*) OVER ()` as
`total_rows`, so a page and its "x–y of N" are one query whatever the list's length (issue 14)."""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms

from reports.base import Page

PAGE_SIZE = 100

# (limit, offset) -> rows, each with `total_rows` (the count before LIMIT); limit None: all rows.
Fetch = Callable[[int | None, int], list[dict[str, Any]]]


class PageForm(forms.Form):
    """The options of a list with nothing to choose but its page."""

    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


def fetch_page(
    fetch: Fetch, options: Mapping[str, Any], *, size: int | None = None
) -> tuple[list[dict[str, Any]], Page]:
    """The chosen page (`options["page"]`, default 1) of `size` rows (PAGE_SIZE); past the last
    page, the last one, as Paginator.get_page does."""
    size = size or PAGE_SIZE
    number = max(1, options.get("page") or 1)
    found = fetch(size, (number - 1) * size)
    if not found and number > 1:
        first = fetch(1, 0)  # the count comes with any row
        total = first[0]["total_rows"] if first else 0
        number = max(1, -(-total // size))
        found = fetch(size, (number - 1) * size)
    count = found[0]["total_rows"] if found else 0
    return found, Page(number=number, count=count, pages=max(1, -(-count // size)), size=size)


def fetch_all_or_page(
    fetch: Fetch, options: Mapping[str, Any], *, paginate: bool
) -> tuple[list[dict[str, Any]], Page | None]:
    """A page for the screen and the API, every row (no page) for the CSV."""
    if paginate:
        return fetch_page(fetch, options)
    return fetch(None, 0), None
