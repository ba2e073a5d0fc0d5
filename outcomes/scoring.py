"""Scoring: answers in, total and severity band out, computed here and nowhere else.

The server never trusts a total sent by a client (SECURITY.md IV-1): it checks
that every item of the named instrument was answered with one of its published
options, sums them, and reads the band from the instrument's published table
(outcomes/instruments/, each module naming its source).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from outcomes.instruments import INSTRUMENTS, Band, Instrument, phq9


@dataclass(frozen=True)
class Score:
    instrument: Instrument
    responses: tuple[int, ...]
    total: int
    band: Band

    @property
    def severity(self) -> str:
        return self.band.severity.value

    @property
    def safety_item_positive(self) -> bool:
        """PHQ-9 item 9 above 0: a risk assessment is needed whatever the total (CLINICAL.md b4)."""
        return safety_item_positive(self.instrument.code, self.responses)


def safety_item_positive(instrument_code: str, responses: Sequence[int]) -> bool:
    if instrument_code != phq9.INSTRUMENT.code or len(responses) < phq9.SAFETY_ITEM:
        return False
    return responses[phq9.SAFETY_ITEM - 1] > 0


def instrument_get(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        known = ", ".join(INSTRUMENTS)
        raise ValidationError({"instrument": [f"Unknown instrument; use one of {known}."]}) from None


def responses_clean(instrument: Instrument, responses: Sequence[object]) -> tuple[int, ...]:
    """The answers as ints, or a ValidationError on `responses` naming each wrong item."""
    if isinstance(responses, str | bytes) or not isinstance(responses, Sequence):
        raise ValidationError({"responses": ["Send a list with one answer per item."]})
    expected = len(instrument.items)
    if len(responses) != expected:
        raise ValidationError(
            {"responses": [f"{instrument.code} has {expected} items; {len(responses)} answers were sent."]}
        )
    low, high = instrument.min_answer, instrument.max_answer
    errors = []
    for number, answer in enumerate(responses, start=1):
        if answer is None:
            errors.append(f"Item {number} is missing an answer.")
        elif isinstance(answer, bool) or not isinstance(answer, int):
            errors.append(f"Item {number}: answer with a whole number from {low} to {high}.")
        elif not low <= answer <= high:
            errors.append(f"Item {number}: {answer} is out of range; answer {low} to {high}.")
    if errors:
        raise ValidationError({"responses": errors})
    return tuple(int(answer) for answer in responses)  # type: ignore[call-overload]


def assessment_score(*, instrument_code: str, responses: Sequence[object]) -> Score:
    """Validate and score one completed questionnaire."""
    instrument = instrument_get(instrument_code)
    answers = responses_clean(instrument, responses)
    total = sum(answers)
    return Score(instrument=instrument, responses=answers, total=total, band=instrument.band_for(total))
