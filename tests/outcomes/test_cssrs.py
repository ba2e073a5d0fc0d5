"""C-SSRS screener, since-last-contact version: the skip rule and every boundary of the Columbia
triage (CLINICAL.md b5), and what a screener opens."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from outcomes import services
from outcomes.cssrs import QUESTIONS, CssrsAnswers, CssrsTriage, cssrs_skip_errors, cssrs_triage
from outcomes.models import CssrsScreen, SafetyAlert
from reminders.models import Reminder, ReminderKind


def answers(q1=False, q2=False, q3=None, q4=None, q5=None, q6=False) -> CssrsAnswers:  # type: ignore[no-untyped-def]
    if q2:
        q3, q4, q5 = bool(q3), bool(q4), bool(q5)
    return CssrsAnswers(q1, q2, q3, q4, q5, q6)


def test_the_six_questions_in_order_with_3_to_5_only_after_2():
    assert [q.number for q in QUESTIONS] == [1, 2, 3, 4, 5, 6]
    assert [q.number for q in QUESTIONS if q.only_if_thoughts] == [3, 4, 5]
    assert QUESTIONS[0].text.startswith("Have you wished you were dead")
    assert "prepared to do anything to end your life" in QUESTIONS[5].text


@pytest.mark.parametrize(
    ("given", "triage"),
    [
        # NO to everything: negative.
        (answers(), CssrsTriage.NEGATIVE),
        # Only 1 and/or 2: low (outpatient referral, crisis lines).
        (answers(q1=True), CssrsTriage.LOW),
        (answers(q2=True), CssrsTriage.LOW),
        (answers(q1=True, q2=True), CssrsTriage.LOW),
        # 3 (method, no intent or plan): moderate.
        (answers(q1=True, q2=True, q3=True), CssrsTriage.MODERATE),
        # 4 or 5 (intent, with or without plan): high, whatever else.
        (answers(q2=True, q4=True), CssrsTriage.HIGH),
        (answers(q2=True, q5=True), CssrsTriage.HIGH),
        (answers(q1=True, q2=True, q3=True, q4=True, q5=True), CssrsTriage.HIGH),
        # 6 (any suicidal behaviour): high, even with no ideation at all.
        (answers(q6=True), CssrsTriage.HIGH),
        (answers(q1=True, q6=True), CssrsTriage.HIGH),
        (answers(q1=True, q2=True, q3=True, q6=True), CssrsTriage.HIGH),
    ],
)
def test_columbia_triage_boundaries(given, triage):
    assert cssrs_triage(given) == triage


def test_skip_rule_3_to_5_must_be_answered_after_a_yes_to_2_and_left_empty_after_a_no():
    missing = CssrsAnswers(True, True, None, False, None, False)
    assert set(cssrs_skip_errors(missing)) == {"thoughts_with_method", "intent_with_plan"}
    asked_anyway = CssrsAnswers(True, False, True, None, None, False)
    assert set(cssrs_skip_errors(asked_anyway)) == {"thoughts_with_method"}
    assert cssrs_skip_errors(answers(q2=True)) == {} and cssrs_skip_errors(answers()) == {}


pytestmark = pytest.mark.django_db


def test_a_negative_screener_opens_nothing(patient, care_manager):
    screen = services.cssrs_screen_record(
        patient=patient, actor=care_manager, answers=answers(), screened_on=date.today()
    )
    assert screen.triage == "negative"
    assert not SafetyAlert.objects.exists() and not Reminder.objects.exists()


def test_a_positive_screener_opens_the_same_safety_alert(patient, care_manager, prescriber, therapist):
    screen = services.cssrs_screen_record(
        patient=patient, actor=care_manager, answers=answers(q1=True, q2=True), screened_on=date.today()
    )
    alert = SafetyAlert.objects.get()
    assert (alert.source, alert.cssrs_screen, alert.high_risk, alert.status) == ("cssrs", screen, False, "open")
    recipients = Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).values_list("recipient", flat=True)
    assert sorted(recipients) == sorted([prescriber.pk, therapist.pk, care_manager.pk])


def test_a_high_risk_screener_is_a_high_risk_alert(patient, care_manager):
    services.cssrs_screen_record(
        patient=patient, actor=care_manager, answers=answers(q6=True), screened_on=date.today()
    )
    alert = SafetyAlert.objects.get()
    assert alert.high_risk and "high risk" in alert.what
    assert Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).first().detail.startswith("High risk")


def test_a_later_negative_screener_leaves_the_alert_open(patient, care_manager):
    """CLINICAL.md b4/b5: a screen triggers, never clears, risk."""
    services.cssrs_screen_record(
        patient=patient, actor=care_manager, answers=answers(q1=True), screened_on=date.today()
    )
    services.cssrs_screen_record(patient=patient, actor=care_manager, answers=answers(), screened_on=date.today())
    assert SafetyAlert.objects.get().status == "open"


def test_skip_rule_and_dates_are_field_errors_and_nothing_is_stored(patient, care_manager):
    with pytest.raises(ValidationError) as error:
        services.cssrs_screen_record(
            patient=patient,
            actor=care_manager,
            answers=CssrsAnswers(True, True, None, None, None, False),
            screened_on=date.today() + timedelta(days=1),
        )
    assert {"thoughts_with_method", "intent", "intent_with_plan", "screened_on"} <= set(error.value.message_dict)
    assert not CssrsScreen.objects.exists()
