"""The questionnaires Tandem scores, one module per instrument (items, options, bands, source)."""

from outcomes.instruments import gad7, phq9, wsas
from outcomes.instruments.base import (
    AnswerOption,
    Band,
    Instrument,
    InstrumentCode,
    Item,
    Severity,
)

INSTRUMENTS: dict[str, Instrument] = {module.INSTRUMENT.code.value: module.INSTRUMENT for module in (phq9, gad7, wsas)}
BY_SLUG: dict[str, Instrument] = {instrument.slug: instrument for instrument in INSTRUMENTS.values()}

__all__ = [
    "INSTRUMENTS",
    "BY_SLUG",
    "AnswerOption",
    "Band",
    "Instrument",
    "InstrumentCode",
    "Item",
    "Severity",
    "phq9",
    "gad7",
    "wsas",
]
