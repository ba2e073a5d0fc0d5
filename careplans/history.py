"""Care-plan version history as people read it: who saved, when, and what changed (issue 16 item 4).

Each kept version (CarePlanVersion) is compared with the one before it, field by field; text
is diffed word by word with difflib, so a one-word change reads as one word struck through and
one inserted, not as two whole paragraphs.
"""

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from careplans.diagnoses import diagnoses_to_lines
from careplans.models import CarePlanStatus, CarePlanVersion

# What a person calls each kept field, in the order the plan shows them.
FIELD_LABELS = (
    ("status", "Status"),
    ("review_date", "Review date"),
    ("summary", "Shared formulation"),
    ("diagnoses", "Diagnoses"),
    ("warning_signs", "Warning signs"),
    ("triggers", "Triggers"),
    ("coping_strategies", "Coping strategies"),
    ("people_to_contact", "People to contact"),
    ("crisis_steps", "Crisis steps"),
)
_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Segment:
    op: str  # "same", "removed", "added"
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    segments: Sequence[Segment]


@dataclass
class HistoryEntry:
    version: CarePlanVersion
    changes: list[FieldChange] = field(default_factory=list)
    is_first: bool = False


def field_text(version: CarePlanVersion, name: str) -> str:
    value: Any = getattr(version, name)
    if name == "diagnoses":
        return diagnoses_to_lines(value or [])
    if name == "status":
        return str(CarePlanStatus(value).label) if value in CarePlanStatus.values else str(value)
    if name == "review_date":
        return value.isoformat() if value else ""
    return str(value or "")


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level diff of two texts, adjacent pieces of one kind merged."""
    before, after = _TOKENS.findall(old), _TOKENS.findall(new)
    segments: list[Segment] = []

    def add(op: str, tokens: Sequence[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            add("same", before[a_start:a_end])
        else:
            add("removed", before[a_start:a_end])
            add("added", after[b_start:b_end])
    return segments


def changes_between(older: CarePlanVersion | None, newer: CarePlanVersion) -> list[FieldChange]:
    found = []
    for name, label in FIELD_LABELS:
        old_text = field_text(older, name) if older is not None else ""
        new_text = field_text(newer, name)
        if old_text != new_text:
            found.append(FieldChange(name=name, label=label, segments=word_diff(old_text, new_text)))
    return found


def history_entries(versions_newest_first: Sequence[CarePlanVersion]) -> list[HistoryEntry]:
    entries = []
    for index, version in enumerate(versions_newest_first):
        older = versions_newest_first[index + 1] if index + 1 < len(versions_newest_first) else None
        entries.append(HistoryEntry(version=version, changes=changes_between(older, version), is_first=older is None))
    return entries
