"""Optimistic locking: a write names the version it read; a stale one is refused (SECURITY.md CC-1)."""

from typing import Any, TypeVar

from django import forms
from django.db import models
from django.http import QueryDict

M = TypeVar("M", bound=models.Model)
F = TypeVar("F", bound=forms.Form)


class StaleVersionError(Exception):
    """Someone saved first. Carries the current row so the caller can show it (API: 409)."""

    def __init__(self, current: models.Model) -> None:
        super().__init__("This record was changed by someone else since you opened it.")
        self.current = current


def claim_version(instance: M, expected_version: int | None) -> M:
    """Move `instance` from `expected_version` to the next one, or raise StaleVersionError.

    One conditional UPDATE does the compare-and-swap, so it is atomic on every
    database: on PostgreSQL a concurrent writer waits on the row lock and then
    finds the version moved. Call inside the transaction that saves the change.
    """
    manager: Any = type(instance)._base_manager
    moved = manager.filter(pk=instance.pk, version=expected_version).update(version=models.F("version") + 1)
    current = manager.get(pk=instance.pk)
    if not moved:
        raise StaleVersionError(current=current)
    return current


def form_rebased(form_class: type[F], data: QueryDict, version: int, **form_kwargs: Any) -> F:
    """After a stale save: the user's input, now against the current `version`, bound and
    validated so the page shows it with its errors. Saving it again overwrites on purpose,
    with the other version shown beside it (SECURITY.md CC-1; the one rebase for every form)."""
    rebased = data.copy()
    rebased["version"] = str(version)
    form = form_class(rebased, **form_kwargs)
    form.is_valid()
    return form
