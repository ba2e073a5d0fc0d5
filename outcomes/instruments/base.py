"""What every instrument definition is made of: items, answer options, bands and a source.

An instrument is data plus one scoring rule (the sum of the item answers); the
published band table turns the total into a severity code. Codes are shared by
all instruments so the API speaks one vocabulary; each band keeps the wording of
its own source as the label.
"""

from dataclasses import dataclass

from django.db import models


class InstrumentCode(models.TextChoices):
    PHQ9 = "PHQ-9", "PHQ-9"
    GAD7 = "GAD-7", "GAD-7"
    WSAS = "WSAS", "WSAS"


class Severity(models.TextChoices):
    MINIMAL = "minimal", "Minimal"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    MODERATELY_SEVERE = "moderately_severe", "Moderately severe"
    SEVERE = "severe", "Severe"


@dataclass(frozen=True)
class AnswerOption:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    number: int  # 1-based, as printed on the form
    text: str  # the published wording
    loinc: str | None = None


@dataclass(frozen=True)
class Band:
    low: int  # inclusive
    high: int  # inclusive
    severity: Severity
    label: str  # the source's own words for the band
    short_label: str = ""  # for tight spots such as the timeline's axis; defaults to `label`

    @property
    def axis_label(self) -> str:
        return self.short_label or self.label


@dataclass(frozen=True)
class Instrument:
    code: InstrumentCode
    name: str
    slug: str  # used in page URLs: "phq-9"
    preamble: str  # the stem read before the items
    items: tuple[Item, ...]
    options: tuple[AnswerOption, ...]
    bands: tuple[Band, ...]
    source: str
    loinc_panel: str | None = None
    loinc_total: str | None = None
    # Remission threshold (total below it), where a source defines one.
    remission_below: int | None = None

    @property
    def min_answer(self) -> int:
        return min(option.value for option in self.options)

    @property
    def max_answer(self) -> int:
        return max(option.value for option in self.options)

    @property
    def max_total(self) -> int:
        return self.max_answer * len(self.items)

    def band_for(self, total: int) -> Band:
        for band in self.bands:
            if band.low <= total <= band.high:
                return band
        raise ValueError(f"{self.code} total {total} is outside 0-{self.max_total}")

    def option_label(self, value: int) -> str:
        return next((option.label for option in self.options if option.value == value), str(value))
