"""Races on PostgreSQL: two clinicians answering the same alert, two care managers flagging at once."""

import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from careplans import case_reviews
from careplans.models import CaseReview, TeamRole
from outcomes import services
from outcomes.models import SafetyAlert, SafetyFollowUp
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory
from tests.outcomes.helpers import record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(actions: list[Callable[[], object]]) -> tuple[int, list[BaseException]]:
    barrier = threading.Barrier(len(actions))
    done: list[object] = []
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            done.append(action())
        except BaseException as error:  # noqa: BLE001 - counted by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done), errors


def test_two_clinicians_following_up_the_same_alert_record_one_follow_up():
    patient = PatientFactory()
    manager, prescriber, therapist = (
        UserFactory(is_care_manager=True),
        UserFactory(is_prescriber=True),
        UserFactory(is_therapist=True),
    )
    for user, role in (
        (manager, TeamRole.CARE_MANAGER),
        (prescriber, TeamRole.PRESCRIBER),
        (therapist, TeamRole.THERAPIST),
    ):
        CareTeamMemberFactory(patient=patient, user=user, role=role)
    record(patient, manager, "PHQ-9", 9, date.today(), item9=1)

    def follow_up(actor):  # type: ignore[no-untyped-def]
        return lambda: services.safety_follow_up_record(
            patient=patient,
            actor=actor,
            format="phone",
            outcome="passive_ideation",
            plan="safety_plan",
            plan_details="Called.",
        )

    succeeded, errors = race([follow_up(prescriber), follow_up(therapist)])
    assert succeeded == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert SafetyFollowUp.objects.count() == 1
    assert SafetyAlert.objects.get().follow_up == SafetyFollowUp.objects.get()


def test_two_care_managers_flagging_at_once_make_one_case_review():
    patient = PatientFactory()
    first, second = UserFactory(is_care_manager=True), UserFactory(is_care_manager=True)
    succeeded, errors = race(
        [
            lambda: case_reviews.case_review_flag(patient=patient, actor=first, reason="Flat PHQ-9"),
            lambda: case_reviews.case_review_flag(patient=patient, actor=second, reason="Not improving"),
        ]
    )
    assert succeeded == 1
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert CaseReview.objects.count() == 1
