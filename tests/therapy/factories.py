"""Test helpers for therapy data."""

import importlib

from django.apps import apps

_SEED = importlib.import_module("therapy.migrations.0002_seed_modalities")


def modality_catalog_ensure() -> None:
    """The catalog the data migration seeds. Transactional tests (the browser's live server)
    flush the database afterwards, so tests that need the catalog put it back first."""
    _SEED.seed(apps, None)
