"""Pages: the Overview tab with the integrated timeline, questionnaire entry and answers,
the safety banner on every chart tab, risk follow-up, case review, and the MBC caseload."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from careplans.models import CarePlanTask, CaseReview
from outcomes.models import Assessment, SafetyAlert
from tests.outcomes.helpers import answers, record

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today():  # type: ignore[no-untyped-def]
    with time_machine.travel(TODAY, tick=False):
        yield


def overview(patient) -> str:  # type: ignore[no-untyped-def]
    return reverse("outcomes:tab", kwargs={"patient_id": patient.public_id})


def entry(patient, slug="phq-9") -> str:  # type: ignore[no-untyped-def]
    return reverse("outcomes:assessment_create", kwargs={"patient_id": patient.public_id, "instrument": slug})


def form_data(instrument: str, total: int, item9: int = 0, **extra) -> dict:  # type: ignore[no-untyped-def]
    data = {f"item_{n}": str(v) for n, v in enumerate(answers(instrument, total, item9), start=1)}
    return {"administered_on": "2026-03-01", **data, **extra}


def test_overview_is_the_first_chart_tab_and_is_called_overview(browser_client, prescriber, patient):
    page = browser_client(prescriber).get(overview(patient)).content.decode()
    tabs = page[page.index('aria-label="Chart sections"') :]
    assert tabs.index(">Overview<") < tabs.index(">Care plan<")


def test_overview_shows_the_summary_and_the_timeline(browser_client, therapist, patient, care_manager):
    record(patient, care_manager, "PHQ-9", 20, TODAY - timedelta(weeks=12))
    record(patient, care_manager, "PHQ-9", 9, TODAY - timedelta(weeks=1))
    response = browser_client(therapist).get(overview(patient))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Response (≥ 50 % lower)" in page and "-55 %" in page
    assert '<svg class="timeline-svg"' in page
    first = Assessment.objects.order_by("administered_on").first()
    assert f'href="/patients/{patient.public_id}/assessments/{first.public_id}/"' in page


def test_empty_overview_invites_a_baseline(browser_client, care_manager, patient):
    page = browser_client(care_manager).get(overview(patient)).content.decode()
    assert "Nothing to plot yet" in page and "Enter the baseline" in page


@pytest.mark.parametrize("user", ["outsider", "clinic_admin"])
def test_outsider_and_clinic_admin_get_404_on_every_page(browser_client, patient, care_manager, user, request):
    assessment = record(patient, care_manager, "PHQ-9", 10, TODAY, item9=1)
    client = browser_client(request.getfixturevalue(user))
    pid = patient.public_id
    urls = [
        overview(patient),
        entry(patient),
        reverse("outcomes:assessment_detail", kwargs={"patient_id": pid, "assessment_id": assessment.public_id}),
        reverse("outcomes:assessment_list", kwargs={"patient_id": pid}),
        reverse("outcomes:safety_follow_up", kwargs={"patient_id": pid}),
        reverse("outcomes:case_review_flag", kwargs={"patient_id": pid}),
        reverse("outcomes:case_review_record", kwargs={"patient_id": pid}),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(entry(patient), form_data("PHQ-9", 12)).status_code == 404
    assert Assessment.objects.count() == 1


def test_the_phq9_form_shows_item_9_verbatim_with_the_alert_warning(browser_client, care_manager, patient):
    page = browser_client(care_manager).get(entry(patient)).content.decode()
    assert "Thoughts that you would be better off dead or of hurting yourself in some way" in page
    assert "alerts the care team at once" in page
    assert page.count('type="radio"') == 9 * 4
    assert "checked" not in page  # nothing pre-selected


def test_entering_a_phq9_saves_the_server_score(browser_client, care_manager, patient):
    response = browser_client(care_manager).post(entry(patient), form_data("PHQ-9", 13))
    assert response.status_code == 302 and response["Location"] == overview(patient)
    assessment = Assessment.objects.get()
    assert (assessment.total_score, assessment.severity, assessment.entered_by) == (13, "moderate", care_manager)


def test_a_missing_item_is_shown_next_to_it_and_the_answers_are_kept(browser_client, care_manager, patient):
    data = form_data("PHQ-9", 13)
    data.pop("item_4")
    response = browser_client(care_manager).post(entry(patient), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Answer item 4." in page and 'id="id_item_4_error"' in page
    assert (
        'value="3" id="id_item_1_3" checked' in page
        or 'value="3" checked' in page
        or ('id="id_item_1_3"' in page and page.count("checked") == 8)
    )
    assert not Assessment.objects.exists()


def test_an_out_of_range_answer_is_refused(browser_client, care_manager, patient):
    response = browser_client(care_manager).post(entry(patient), form_data("PHQ-9", 5, item_2="7"))
    assert "Choose one of the answers for item 2." in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_future_date_is_refused_next_to_the_date(browser_client, care_manager, patient):
    response = browser_client(care_manager).post(
        entry(patient, "gad-7"), form_data("GAD-7", 5, administered_on="2026-04-01")
    )
    page = response.content.decode()
    assert "cannot be dated in the future" in page and 'id="id_administered_on_error"' in page


def test_unknown_instrument_page_is_404(browser_client, care_manager, patient):
    assert browser_client(care_manager).get(entry(patient, "bdi-ii")).status_code == 404


def test_positive_item_9_puts_a_banner_on_every_chart_tab_until_followed_up(
    browser_client, care_manager, therapist, patient, care_plan
):
    browser_client(care_manager).post(entry(patient), form_data("PHQ-9", 6, item9=1))
    assert SafetyAlert.objects.filter(status="open").count() == 1
    client = browser_client(care_manager)
    tabs = [overview(patient), reverse("careplans:chart", kwargs={"patient_id": patient.public_id})]
    for url in tabs:
        page = client.get(url).content.decode()
        assert "Safety alert open" in page, url
        assert "Record the risk follow-up" not in page  # care managers do not record it
        assert "Ask the C-SSRS screener" in page  # but they may ask the screener (CLINICAL.md b4, b5)
    # A later negative item 9 does not clear it.
    client.post(entry(patient), form_data("PHQ-9", 3, item9=0, administered_on="2026-03-02"))
    assert "Safety alert open" in client.get(overview(patient)).content.decode()
    # The therapist sees the button and records the follow-up; the banner goes.
    therapist_client = browser_client(therapist)
    follow_up_url = reverse("outcomes:safety_follow_up", kwargs={"patient_id": patient.public_id})
    assert "Record the risk follow-up" in therapist_client.get(overview(patient)).content.decode()
    response = therapist_client.post(
        follow_up_url,
        {
            "assessed_on": "2026-03-02",
            "format": "phone",
            "outcome": "passive_ideation",
            "plan": "safety_plan",
            "plan_details": "Called; safety plan reviewed.",
        },
    )
    assert response.status_code == 302
    for url in tabs:
        assert "Safety alert open" not in therapist_client.get(url).content.decode()


def test_care_manager_gets_403_on_the_follow_up_page(browser_client, care_manager, patient):
    record(patient, care_manager, "PHQ-9", 6, TODAY, item9=1)
    url = reverse("outcomes:safety_follow_up", kwargs={"patient_id": patient.public_id})
    assert browser_client(care_manager).get(url).status_code == 403


def test_follow_up_errors_are_shown_per_field_and_input_kept(browser_client, care_manager, prescriber, patient):
    record(patient, care_manager, "PHQ-9", 6, TODAY, item9=1)
    url = reverse("outcomes:safety_follow_up", kwargs={"patient_id": patient.public_id})
    response = browser_client(prescriber).post(
        url,
        {
            "assessed_on": "2026-03-02",
            "format": "phone",
            "outcome": "intent_or_plan",
            "plan": "routine",
            "plan_details": "Said he has a plan.",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "needs a same-day evaluation or emergency services" in page
    assert "Said he has a plan." in page
    assert SafetyAlert.objects.get().status == "open"


def test_answers_are_one_click_away(browser_client, therapist, patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 11, TODAY, item9=2)
    url = reverse(
        "outcomes:assessment_detail", kwargs={"patient_id": patient.public_id, "assessment_id": assessment.public_id}
    )
    page = browser_client(therapist).get(url).content.decode()
    assert "More than half the days" in page and "Little interest or pleasure in doing things" in page
    assert 'class="item9-row"' in page


def test_case_review_flag_and_record_through_the_pages(
    browser_client, care_manager, prescriber, therapist, patient, care_plan
):
    flag = reverse("outcomes:case_review_flag", kwargs={"patient_id": patient.public_id})
    record_url = reverse("outcomes:case_review_record", kwargs={"patient_id": patient.public_id})
    assert browser_client(therapist).get(flag).status_code == 403
    assert browser_client(care_manager).get(record_url).status_code == 403
    empty = browser_client(care_manager).post(flag, {"reason": ""})
    assert 'id="id_reason_error"' in empty.content.decode()
    assert browser_client(care_manager).post(flag, {"reason": "Flat PHQ-9"}).status_code == 302
    response = browser_client(prescriber).post(
        record_url,
        {
            "summary": "Partial response.",
            "rec_1_description": "Increase sertraline to 150 mg",
            "rec_1_role": "prescriber",
            "rec_1_due": "2026-03-16",
            "rec_2_description": "",
            "rec_3_description": "",
            "rec_4_description": "",
        },
    )
    assert response.status_code == 302
    assert CaseReview.objects.get().status == "completed"
    task = CarePlanTask.objects.get()
    plan_page = (
        browser_client(therapist)
        .get(reverse("careplans:chart", kwargs={"patient_id": patient.public_id}))
        .content.decode()
    )
    assert "Increase sertraline to 150 mg" in plan_page and "Last case review" in plan_page
    done = reverse("outcomes:task_complete", kwargs={"patient_id": patient.public_id, "task_id": task.public_id})
    assert browser_client(therapist).post(done).status_code == 302
    task.refresh_from_db()
    assert task.status == "done"


def test_mbc_caseload_lists_flags_and_sorts(browser_client, prescriber, care_manager, patient, outsider, clinic_admin):
    record(patient, care_manager, "PHQ-9", 20, TODAY - timedelta(weeks=12))
    record(patient, care_manager, "PHQ-9", 18, TODAY, item9=1)
    url = reverse("outcomes:mbc_caseload")
    page = browser_client(prescriber).get(url + "?sort=not_improving").content.decode()
    assert patient.display_name in page
    assert 'class="flag flag-bad">Yes' in page and 'class="flag flag-alert">Open' in page
    assert '<a href="?sort=not_improving" aria-current="true">' in page
    assert "Measurement-based care</a>" in page  # the nav link
    assert patient.display_name not in browser_client(outsider).get(url).content.decode()
    assert browser_client(clinic_admin).get(url).status_code == 404


def _three_years(patient, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    from medications.models import Medication
    from medications.services import dose_change_record, regimen_start
    from therapy.models import Modality
    from therapy.services import session_log_for_patient

    start = TODAY - timedelta(weeks=156)
    for week in range(157):
        record(patient, care_manager, "PHQ-9", 20 - (week * 15) // 156, start + timedelta(weeks=week))
        if week % 4 == 0:
            record(patient, care_manager, "GAD-7", 15 - (week * 10) // 156, start + timedelta(weeks=week))
    sertraline = Medication.objects.get(name__iexact="sertraline")
    with time_machine.travel(start, tick=False):
        regimen = regimen_start(
            patient=patient,
            medication=sertraline,
            dose=Decimal("50"),
            frequency="once_daily",
            start_date=start,
            actor=prescriber,
        )
    for step, dose in enumerate(["100", "150", "200", "150", "100"], start=1):
        regimen.refresh_from_db()
        dose_change_record(
            regimen=regimen,
            dose=Decimal(dose),
            reason="Titration",
            actor=prescriber,
            version=regimen.version,
            effective_on=start + timedelta(weeks=20 * step),
        )
    cbt = Modality.objects.get(code="CBT")
    for week in range(0, 150, 2):
        session_log_for_patient(
            patient=patient,
            actor=therapist,
            modality=cbt,
            session_date=start + timedelta(weeks=week),
            attendance="attended" if week % 10 else "no_show",
        )


def test_overview_query_count_with_three_years_of_weekly_scores(
    browser_client, prescriber, therapist, care_manager, patient, django_assert_max_num_queries
):
    _three_years(patient, prescriber, therapist, care_manager)
    client = browser_client(therapist)
    client.get(overview(patient))  # warm the session
    # 20: session, user, patient, chart-open audit (5), team, safety banner, critical-result
    # banner, assessments, episode start, dose events, session events, case review, inbox badge,
    # session save (3).
    # 21: one more than before issue 17, the patient's check-ins (patient_portal) for the timeline.
    with django_assert_max_num_queries(21):
        response = client.get(overview(patient))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="point-link"') == 157 + 40
    svg = page[page.index('<svg class="timeline-svg"') : page.index("</svg>")]
    assert svg.count("dose-marker") == 6 and svg.count("session session-") == 75


def test_enter_in_error_from_the_answers_page(browser_client, therapist, care_manager, patient):
    assessment = record(patient, care_manager, "PHQ-9", 12, TODAY)
    kwargs = {"patient_id": patient.public_id, "assessment_id": assessment.public_id}
    client = browser_client(therapist)
    assert "Mark entered in error" in client.get(reverse("outcomes:assessment_detail", kwargs=kwargs)).content.decode()
    url = reverse("outcomes:assessment_enter_in_error", kwargs=kwargs)
    assert client.post(url, {"reason": ""}).status_code == 302
    assert Assessment.objects.filter(pk=assessment.pk).exists()
    response = client.post(url, {"reason": "Entered for the wrong date"}, follow=True)
    assert "marked entered in error" in response.content.decode()
    assert not Assessment.objects.filter(pk=assessment.pk).exists()
