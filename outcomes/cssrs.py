"""The C-SSRS Screener, "since last contact" version, and the Columbia triage rule (CLINICAL.md b5).

Source: Columbia-Suicide Severity Rating Scale Screener (Posner et al., The Research Foundation for
Mental Hygiene), questions as listed in CLINICAL.md b5 (page:
https://docest.com/doc/610945/suicide-ideation-definitions-and-prompts); triage from the C-SSRS
triage guidelines (pages: https://fdocuments.in/document/microsoft-word-c-ssrs-triage-web-view-clinical-triage-and-workflow-guidelines.html ;
https://docsbay.net/doc/914678/c-ssrs-triage-guidelines). The screener "triages respondents into
low, moderate and high-risk categories" (NINDS CDE, C-SSRS Screener Version).

Six yes/no questions. Ask 1 and 2; if 2 is YES ask 3, 4 and 5; if 2 is NO go to 6.

Columbia triage (b5 table, with the screener's low/moderate/high colour bands):
- YES to 4 or 5 (ideation with intent, with or without a specific plan) -> HIGH: patient-safety
  precautions until a mental-health professional evaluates for possible hospitalisation;
- YES to 6 (any suicidal behaviour) -> HIGH. In this version 6 asks about the time since the last
  contact, which in collaborative care is inside the 3 months the rule names, so it is always HIGH;
- YES to 3 (thoughts with a method, no intent or plan) -> MODERATE;
- YES only to 1 and/or 2 -> LOW: referral to outpatient care and crisis lines per clinical judgment;
- NO to everything -> NEGATIVE (no alert). Like PHQ-9 item 9 (b4), a negative screener never
  closes an open alert.
"""

from dataclasses import dataclass

from django.db import models


class CssrsTriage(models.TextChoices):
    NEGATIVE = "negative", "No suicidal ideation or behaviour reported"
    LOW = "low", "Low risk"
    MODERATE = "moderate", "Moderate risk"
    HIGH = "high", "High risk"


@dataclass(frozen=True)
class CssrsQuestion:
    number: int
    field: str  # the CssrsScreen field holding the answer
    heading: str
    text: str
    only_if_thoughts: bool = False  # asked only when question 2 is YES


PREAMBLE = "Since the last contact:"

QUESTIONS = (
    CssrsQuestion(
        1,
        "wish_dead",
        "Wish to be dead",
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
    ),
    CssrsQuestion(
        2,
        "suicidal_thoughts",
        "Non-specific active suicidal thoughts",
        "Have you actually had any thoughts of killing yourself?",
    ),
    CssrsQuestion(
        3,
        "thoughts_with_method",
        "Suicidal thoughts with method (without specific plan or intent to act)",
        "Have you been thinking about how you might do this?",
        only_if_thoughts=True,
    ),
    CssrsQuestion(
        4,
        "intent",
        "Suicidal intent (without specific plan)",
        "Have you had these thoughts and had some intention of acting on them?",
        only_if_thoughts=True,
    ),
    CssrsQuestion(
        5,
        "intent_with_plan",
        "Suicidal intent with specific plan",
        "Have you started to work out or worked out the details of how to kill yourself? "
        "Do you intend to carry out this plan?",
        only_if_thoughts=True,
    ),
    CssrsQuestion(
        6,
        "behaviour",
        "Suicidal behaviour",
        "Have you done anything, started to do anything, or prepared to do anything to end your life?",
    ),
)

FOLLOW_UP_QUESTIONS = tuple(q.field for q in QUESTIONS if q.only_if_thoughts)


@dataclass(frozen=True)
class CssrsAnswers:
    wish_dead: bool
    suicidal_thoughts: bool
    thoughts_with_method: bool | None  # None: not asked (question 2 was NO)
    intent: bool | None
    intent_with_plan: bool | None
    behaviour: bool


def cssrs_skip_errors(answers: CssrsAnswers) -> dict[str, list[str]]:
    """Questions 3-5 are asked exactly when question 2 is YES."""
    errors: dict[str, list[str]] = {}
    for question in QUESTIONS:
        if not question.only_if_thoughts:
            continue
        value = getattr(answers, question.field)
        if answers.suicidal_thoughts and value is None:
            errors[question.field] = [f"Answer question {question.number}: question 2 was answered yes."]
        if not answers.suicidal_thoughts and value is not None:
            errors[question.field] = [f"Question {question.number} is asked only when question 2 is yes."]
    return errors


def cssrs_triage(answers: CssrsAnswers) -> CssrsTriage:
    """The Columbia triage level of a complete screener (module docstring has the rule)."""
    if answers.suicidal_thoughts and (answers.intent or answers.intent_with_plan):
        return CssrsTriage.HIGH
    if answers.behaviour:
        return CssrsTriage.HIGH
    if answers.suicidal_thoughts and answers.thoughts_with_method:
        return CssrsTriage.MODERATE
    if answers.wish_dead or answers.suicidal_thoughts:
        return CssrsTriage.LOW
    return CssrsTriage.NEGATIVE
