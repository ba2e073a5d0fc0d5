"""Small builders for outcomes tests: answer vectors with a chosen total, recorded via the service."""

from datetime import date

from outcomes import services
from outcomes.instruments import INSTRUMENTS
from outcomes.models import Assessment


def answers(instrument: str, total: int, item9: int = 0) -> list[int]:
    """A valid answer vector summing to `total`; for the PHQ-9, item 9 is `item9`."""
    definition = INSTRUMENTS[instrument]
    count, top = len(definition.items), definition.max_answer
    vector = [0] * count
    remaining = total
    if instrument == "PHQ-9":
        vector[8] = item9
        remaining -= item9
        count -= 1
    for index in range(count):
        vector[index] = min(top, remaining)
        remaining -= vector[index]
    assert remaining == 0, "total not reachable"
    return vector


def record(patient, actor, instrument: str, total: int, on: date, item9: int = 0) -> Assessment:  # type: ignore[no-untyped-def]
    return services.assessment_record(
        patient=patient,
        actor=actor,
        instrument=instrument,
        responses=answers(instrument, total, item9),
        administered_on=on,
    )
