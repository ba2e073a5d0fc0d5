"""Model fields shared by every app."""

from typing import Any

from django.core import validators
from django.db import models

from clinic.validators import LONG_TEXT_MAX_LENGTH


class BoundedTextField(models.TextField):
    """A TextField with a maximum length that model validation enforces (issue 12 item 8).

    Django's TextField passes `max_length` to its form field only; this one also validates it
    in `full_clean` (which every service calls), and DRF's ModelSerializer and ModelForms pick it
    up from `max_length`, so the API, the pages and the services give the same field error.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", LONG_TEXT_MAX_LENGTH)
        super().__init__(*args, **kwargs)
        self.validators.append(validators.MaxLengthValidator(kwargs["max_length"]))
