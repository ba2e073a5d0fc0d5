"""One safety signal, whatever raised it (issue 16 item 3; CLINICAL.md b4, b5).

A PHQ-9 with item 9 above 0, a positive C-SSRS screener (both outcomes) and a risk raised in a
therapy session (therapy) must open the same kind of safety alert: the same banner, flags,
worklist item, reminders and structured follow-up. outcomes owns the alert (its rows and its
follow-up already live there), but therapy and outcomes are siblings and may not import each
other (DESIGN.md import direction). They meet here, one layer lower: therapy calls
`safety_signal_raise(SafetySignal(...))`; outcomes registers the one handler in
OutcomesConfig.ready(). A hook rather than moving the alert model down keeps the existing rows,
their foreign key to the PHQ-9 and the follow-up where they are.

With no handler registered the call fails loudly: a risk must never be dropped silently.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SafetySource(models.TextChoices):
    PHQ9_ITEM9 = "phq9_item9", "PHQ-9 item 9"
    SESSION_RISK = "session_risk", "Risk raised in a therapy session"
    CSSRS = "cssrs", "C-SSRS screener"


@dataclass(frozen=True)
class SafetySignal:
    """What raised the alert. Exactly one source link is set, matching `source`."""

    patient: Any  # careplans.Patient
    actor: Any  # clinic.User who recorded the source
    source: SafetySource
    source_date: date  # the day of the questionnaire, screener or session
    session_public_id: UUID | None = None  # SESSION_RISK: the therapy session
    assessment: Any = None  # PHQ9_ITEM9: the outcomes.Assessment
    cssrs_screen: Any = None  # CSSRS: the outcomes.CssrsScreen
    high_risk: bool = False  # Columbia triage "high" (CLINICAL.md b5)


SafetySignalHandler = Callable[[SafetySignal], Any]
_handler: SafetySignalHandler | None = None


def safety_signal_handler_register(handler: SafetySignalHandler) -> None:
    global _handler
    _handler = handler


def safety_signal_raise(signal: SafetySignal) -> Any:
    """Open the safety alert for `signal` in the caller's transaction; returns the alert."""
    if _handler is None:
        raise ImproperlyConfigured("No safety-signal handler: outcomes registers it in OutcomesConfig.ready().")
    return _handler(signal)
