"""Validators shared by every app: password length (SECURITY.md AU-1: at most 128 characters),
bounded and clean text (issue 12 item 8), plausible birth dates (issue 16 item 9)."""

import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import ngettext


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: object = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at most {self.max_length} characters."


# --- Bounded, clean text (issue 12 item 8; SECURITY.md IV-3) -------------------------------------
# Limits for free text. A summary is not a novel: 20,000 characters is about eight pages, far more
# than any formulation, session summary or process note needs, and small enough that an edit does
# not write megabytes (audit rows, page weight). Shorter text has its CharField max_length.
LONG_TEXT_MAX_LENGTH = 20_000  # summaries, formulations, process notes, plans
MEDIUM_TEXT_MAX_LENGTH = 4_000  # one section of a relapse plan, an agreement, an action taken
TITLE_MAX_LENGTH = 200  # titles and one-line labels

# Characters with no place in an identifier or a name: C0/C1 controls (Cc), format characters
# (Cf: bidi overrides and isolates U+202A-202E / U+2066-2069, zero-width space/joiners U+200B-200D,
# marks U+200E/200F, BOM U+FEFF, soft hyphen), line/paragraph separators and lone surrogates.
# They let "Smith" and "Sm\u200bith" be two patients, or make an MRN display reversed.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# In exported free text, line breaks and tabs are content; everything else unsafe is stripped.
CSV_KEPT_CONTROLS = frozenset("\n\r\t")


def unsafe_characters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char) in UNSAFE_CATEGORIES]


def validate_clean_identifier(value: str) -> None:
    """Model/field validator for MRNs, names and usernames: no control, bidi or zero-width characters."""
    found = unsafe_characters(value)
    if found:
        shown = ", ".join(sorted({f"U+{ord(char):04X}" for char in found}))
        raise ValidationError(
            "Remove the invisible or control characters (%(chars)s): names and identifiers hold visible "
            "characters only.",
            code="unsafe_characters",
            params={"chars": shown},
        )


def strip_unsafe_characters(text: str) -> str:
    """For CSV exports: drop control, bidi and zero-width characters, keep line breaks and tabs."""
    return "".join(
        char for char in text if char in CSV_KEPT_CONTROLS or unicodedata.category(char) not in UNSAFE_CATEGORIES
    )


def validate_birth_date(value: date) -> None:
    """A birth date is in the past and at most 120 years ago (issue 16 item 9: "Age -5" was
    accepted). The oldest verified human lived 122 years; anything older is a typing error."""
    today = timezone.localdate()
    if value > today:
        raise ValidationError("A birth date cannot be in the future.", code="birth_date_future")
    oldest = _years_before(today, MAX_AGE_YEARS)
    if value < oldest:
        raise ValidationError(
            "A birth date more than %(years)d years ago is not plausible: check the year.",
            code="birth_date_too_old",
            params={"years": MAX_AGE_YEARS},
        )


MAX_AGE_YEARS = 120


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)
