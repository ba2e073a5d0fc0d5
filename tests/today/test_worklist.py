"""Today's worklist (issue 16 item 1): every kind, each from its own app, most urgent first, only
the caller's patients, one click to where it is handled, and a fixed number of queries."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from careplans.models import TeamRole
from medications import services as medication_services
from outcomes import services as outcome_services
from reminders import team_messages
from tests.factories import CareTeamMemberFactory, PatientFactory
from tests.medications.conftest import ensure_catalog
from tests.outcomes.helpers import answers
from tests.reports import builders
from tests.therapy.factories import modality_catalog_ensure
from therapy import services as therapy_services
from therapy.models import Attendance
from today.worklist import Severity, WorkItem, worklist_for, worklist_page

pytestmark = pytest.mark.django_db
TODAY = date.today()


def _team(prescriber, therapist, care_manager, **fields):  # type: ignore[no-untyped-def]
    patient = PatientFactory(**fields)
    for user, role in ((prescriber, TeamRole.PRESCRIBER), (therapist, TeamRole.THERAPIST)):
        CareTeamMemberFactory(patient=patient, user=user, role=role)
    CareTeamMemberFactory(patient=patient, user=care_manager, role=TeamRole.CARE_MANAGER)
    return patient


def _phq9(patient, actor, total, on, item9=0):  # type: ignore[no-untyped-def]
    return outcome_services.assessment_record(
        patient=patient, actor=actor, instrument="PHQ-9", responses=answers("PHQ-9", total, item9), administered_on=on
    )


def _everything(patient, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    """One of every kind for `patient`."""
    ensure_catalog()
    modality_catalog_ensure()
    # Not improving at week 8+: 20 -> 15 over 9 weeks; measurement due: the last PHQ-9 is 5 weeks old;
    # the item 9 on it opens a safety alert.
    _phq9(patient, care_manager, 20, TODAY - timedelta(weeks=9))
    _phq9(patient, care_manager, 15, TODAY - timedelta(weeks=5), item9=1)
    # Lithium started 6 months ago with no levels: monitoring overdue; a toxic level: critical result.
    builders.regimen(patient, "Lithium carbonate", TODAY - timedelta(days=180), by=prescriber, dose="600")
    medication_services.lab_result_record(
        patient=patient, actor=prescriber, test="lithium_level", value="2.1", taken_on=TODAY
    )
    course = builders.course(patient, therapist, "CBT", TODAY - timedelta(days=30))
    therapy_services.session_log(
        course=course, actor=therapist, session_date=TODAY - timedelta(days=2), attendance=Attendance.NO_SHOW
    )
    team_messages.team_message_send(patient=patient, actor=therapist, body="Can you call her today?")


def test_a_prescribers_worklist_has_every_kind_most_urgent_first(prescriber, therapist, care_manager):
    patient = _team(prescriber, therapist, care_manager)
    _everything(patient, prescriber, therapist, care_manager)
    items = worklist_for(prescriber)
    kinds = [item.kind for item in items]
    assert set(kinds) >= {"safety_alert", "critical_result", "monitoring_overdue", "not_improving", "measurement_due"}
    assert "team_message" in kinds  # the therapist's message reached the prescriber's inbox
    assert "session_follow_up" not in kinds  # the no-show is the therapist's and care manager's to follow up
    severities = [item.severity for item in items]
    assert severities == sorted(severities)
    assert {kinds[0], kinds[1]} == {"safety_alert", "critical_result"}
    assert all(item.patient == patient for item in items)
    by_kind = {item.kind: item for item in items}
    assert by_kind["safety_alert"].url == reverse("outcomes:safety_follow_up", args=[patient.public_id])
    assert by_kind["critical_result"].url.startswith(f"/patients/{patient.public_id}/medications/critical/")
    assert by_kind["measurement_due"].url == reverse("outcomes:assessment_create", args=[patient.public_id, "phq-9"])
    assert "week 9" in by_kind["not_improving"].title


def test_the_therapist_sees_the_no_show_to_follow_up_until_a_session_is_attended(prescriber, therapist, care_manager):
    ensure_catalog()
    modality_catalog_ensure()
    patient = _team(prescriber, therapist, care_manager)
    course = builders.course(patient, therapist, "CBT", TODAY - timedelta(days=30))
    therapy_services.session_log(
        course=course, actor=therapist, session_date=TODAY - timedelta(days=3), attendance=Attendance.NO_SHOW
    )
    follow_ups = [i for i in worklist_for(therapist) if i.kind == "session_follow_up"]
    assert [(i.severity, i.url) for i in follow_ups] == [(Severity.HIGH, f"/patients/{patient.public_id}/therapy/")]
    assert "no show" in follow_ups[0].title
    therapy_services.session_log(course=course, actor=therapist, session_date=TODAY, duration_minutes=50)
    assert [i for i in worklist_for(therapist) if i.kind == "session_follow_up"] == []


@pytest.mark.parametrize(("weeks", "flagged"), [(7, False), (8, True)])
def test_not_improving_from_week_8(prescriber, therapist, care_manager, weeks, flagged):
    """CLINICAL.md §1 (Bao 2015): non-responders by week 8; response >= 50 %, remission < 5 (b3)."""
    patient = _team(prescriber, therapist, care_manager)
    _phq9(patient, care_manager, 20, TODAY - timedelta(weeks=weeks, days=0))
    _phq9(patient, care_manager, 11, TODAY)  # 45 % better: not a response
    assert any(i.kind == "not_improving" for i in worklist_for(prescriber)) is flagged


@pytest.mark.parametrize(("latest", "flagged"), [(10, False), (11, True), (4, False)])
def test_not_improving_response_and_remission_boundaries(prescriber, therapist, care_manager, latest, flagged):
    patient = _team(prescriber, therapist, care_manager)
    _phq9(patient, care_manager, 20, TODAY - timedelta(weeks=10))
    _phq9(patient, care_manager, latest, TODAY)
    assert any(i.kind == "not_improving" for i in worklist_for(prescriber)) is flagged


def test_only_the_callers_patients(prescriber, therapist, care_manager, outsider, clinic_admin):
    patient = _team(prescriber, therapist, care_manager)
    _everything(patient, prescriber, therapist, care_manager)
    assert worklist_for(outsider) == []
    assert worklist_for(clinic_admin) == []


def test_an_empty_worklist(prescriber):
    assert worklist_for(prescriber) == []


def test_query_count_does_not_grow_with_patients_or_items(
    prescriber, therapist, care_manager, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _everything(_team(prescriber, therapist, care_manager), prescriber, therapist, care_manager)
    with CaptureQueriesContext(connection) as one_with_refresh:
        first = worklist_for(prescriber)  # refreshes the patient's facts first (reports.facts)
    with CaptureQueriesContext(connection) as one:
        assert worklist_for(prescriber) == first  # nothing changed: nothing to refresh
    for _ in range(4):
        _everything(_team(prescriber, therapist, care_manager), prescriber, therapist, care_manager)
    with django_assert_max_num_queries(len(one_with_refresh.captured_queries)):
        five = worklist_for(prescriber)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert worklist_for(prescriber) == five
    assert len(five) == 5 * len(first)
    page = worklist_page(prescriber, limit=2)  # the counts are every item's, whatever the page
    assert (page.total, page.by_kind["safety_alert"], page.by_severity[Severity.URGENT]) == (len(five), 5, 10)
    assert page.items == five[:2]
    # The worklist's own queries; refreshing the changed patients' facts adds a fixed number
    # (reports.facts, a batch of up to 5,000 patients per statement).
    assert len(one.captured_queries) <= 20


def test_a_registered_source_adds_a_kind(prescriber, therapist, care_manager):
    """The interface another app uses (today.worklist docstring)."""
    from today import worklist

    patient = _team(prescriber, therapist, care_manager)

    def check_ins(ctx: worklist.WorklistContext) -> list[WorkItem]:
        return [
            ctx.item(
                kind="checkin_alert",
                patient_id=pk,
                title="Check-in alert",
                due_date=ctx.today,
                severity=Severity.HIGH,
                url="/x/",
            )
            for pk in ctx.patient_ids
        ]

    worklist.worklist_source_register(worklist.WorklistSource("checkin_alert", "Check-ins", check_ins, order=25))
    try:
        assert [(i.kind, i.patient) for i in worklist_for(prescriber)] == [("checkin_alert", patient)]
    finally:
        worklist._SOURCES.pop("checkin_alert")


def test_a_phq9_entered_a_minute_ago_is_on_the_worklist_at_once(prescriber, therapist, care_manager):
    """not_improving reads the stored facts (reports.facts): the worklist refreshes the changed
    patients before it reads, so nobody waits for the nightly rebuild."""
    patient = _team(prescriber, therapist, care_manager)
    _phq9(patient, care_manager, 20, TODAY - timedelta(weeks=10))
    _phq9(patient, care_manager, 8, TODAY - timedelta(days=1))  # a response: not flagged
    assert not any(i.kind == "not_improving" for i in worklist_for(prescriber))
    _phq9(patient, care_manager, 14, TODAY)  # worse again
    assert [i.title for i in worklist_for(prescriber) if i.kind == "not_improving"] == [
        "Not improving at week 10: PHQ-9 20 → 14. Consider a case review."
    ]


def _messages_for(prescriber, therapist, care_manager, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        team_messages.team_message_send(
            patient=_team(prescriber, therapist, care_manager), actor=therapist, body="Please call."
        )


def test_the_worklist_pages_keep_the_order_and_exact_counts(prescriber, therapist, care_manager):
    _messages_for(prescriber, therapist, care_manager, 7)
    every = worklist_for(prescriber)
    first, second, last = (worklist_page(prescriber, offset=o, limit=3) for o in (0, 3, 6))
    assert first.items + second.items + last.items == every
    assert (first.total, first.by_kind["team_message"], first.has_next, last.has_next) == (7, 7, True, False)


def test_today_is_paginated_with_exact_counts(client, prescriber, therapist, care_manager):
    _messages_for(prescriber, therapist, care_manager, 52)
    client.force_login(prescriber)
    page = client.get("/").content.decode()
    assert "52 things need you" in page and "Items 1–50 of 52 (page 1 of 2)" in page
    assert page.count('class="work-item ') == 50 and 'href="?page=2" rel="next"' in page
    second = client.get("/", {"page": 2}).content.decode()
    assert second.count('class="work-item ') == 2 and 'href="?page=1" rel="prev"' in second
    assert 'rel="next"' not in second and "52 things need you" in second
    assert client.get("/", {"page": 9}).content.decode().count('class="work-item ') == 2  # the last page
    assert client.get("/", {"page": "x"}).status_code == 200


def test_worklist_api_pages(api, prescriber, therapist, care_manager):
    _messages_for(prescriber, therapist, care_manager, 52)
    body = api(prescriber).get("/api/v1/worklist/").json()
    assert (body["count"], len(body["results"]), body["previous"]) == (52, 50, None)
    assert body["next"].endswith("/api/v1/worklist/?page=2")
    second = api(prescriber).get(body["next"]).json()
    assert (second["count"], len(second["results"]), second["next"]) == (52, 2, None)
    assert second["previous"].endswith("/api/v1/worklist/")
    assert api(prescriber).get("/api/v1/worklist/", {"page": 3}).status_code == 404


def test_the_worklists_scope_is_the_clinical_scope(prescriber, therapist, care_manager, outsider):
    """careplans.selectors.patient_ids_on_care_team_of (the worklist's faster subquery) names the
    patients of clinic.access.patients_in_scope(user, "clinical"): active members and unexpired
    break-glass grants, not an ended membership or an expired grant."""
    from django.utils import timezone

    from careplans.models import BreakGlassGrant, Patient
    from careplans.selectors import patient_ids_on_care_team_of
    from clinic.access import patients_in_scope

    member, granted = _team(prescriber, therapist, care_manager), PatientFactory()
    ended, expired = PatientFactory(), PatientFactory()
    PatientFactory()  # nobody's
    CareTeamMemberFactory(patient=member, user=outsider, role=TeamRole.CARE_MANAGER)
    now = timezone.now()
    CareTeamMemberFactory(
        patient=ended, user=outsider, role=TeamRole.THERAPIST, started_at=now - timedelta(days=9), ended_at=now
    )
    BreakGlassGrant.objects.create(patient=granted, user=outsider, reason="r", expires_at=now + timedelta(hours=1))
    BreakGlassGrant.objects.create(
        patient=expired,
        user=outsider,
        reason="r",
        started_at=now - timedelta(hours=5),
        expires_at=now - timedelta(hours=1),
    )
    for user in (outsider, prescriber, care_manager):
        by_ids = set(Patient.objects.filter(pk__in=patient_ids_on_care_team_of(user)))
        assert by_ids == set(patients_in_scope(user, scope="clinical"))
    assert by_ids == {member}
    assert set(Patient.objects.filter(pk__in=patient_ids_on_care_team_of(outsider))) == {member, granted}
