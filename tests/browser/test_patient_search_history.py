"""In Chromium: find a patient from the header with `/`, and a care plan's history with restore
(issue 16 items 2 and 4). Screenshots at 390 and 1280 px go to test-artifacts/screenshots/careplans/."""

from playwright.sync_api import expect

from careplans import services
from careplans.models import TeamRole
from tests.browser.conftest import ARTIFACTS
from tests.factories import CareTeamMemberFactory, PatientFactory

SHOTS = ARTIFACTS / "careplans"


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}_{width}.png"), full_page=True, caret="initial")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_slash_focuses_the_header_search_and_finds_the_patient(page, login, prescriber):
    page.set_default_timeout(30_000)  # a shared, busy machine: patience, not a timing assertion
    wanted = PatientFactory(given_name="Zoë", family_name="Ångström", mrn="S-501")
    CareTeamMemberFactory(patient=wanted, user=prescriber, role=TeamRole.PRESCRIBER)
    other = PatientFactory(given_name="Ali", family_name="Berg")
    CareTeamMemberFactory(patient=other, user=prescriber, role=TeamRole.PRESCRIBER)
    login(prescriber)
    page.locator("main").click()
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Find a patient by name, MRN or birth date")
    expect(box).to_be_focused()
    page.keyboard.type("angstr")  # no accent, part of the name
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Find a patient")).to_be_visible()
    expect(page.get_by_role("link", name="Ångström, Zoë")).to_be_visible()
    expect(page.get_by_role("link", name="Berg, Ali")).to_have_count(0)
    shoot(page, "search_results")
    # Typing "/" inside a field types a slash: the shortcut only acts outside fields.
    search_field = page.get_by_label("Name, MRN or birth date (YYYY-MM-DD)")
    search_field.fill("")
    search_field.type("02/04")
    expect(search_field).to_have_value("02/04")
    page.get_by_role("link", name="Ångström, Zoë").click()
    expect(page.get_by_role("heading", name="Ångström, Zoë")).to_be_visible()
    assert not [m for m in page.console_messages if "Content Security Policy" in m]


def test_history_shows_the_diff_and_restores_an_old_version(page, login, therapist, prescriber, patient):
    page.set_default_timeout(30_000)
    plan = services.care_plan_create(patient=patient, actor=prescriber)
    plan = services.care_plan_update(
        care_plan=plan, actor=prescriber, version=1, summary="Low mood since spring; poor sleep."
    )
    plan = services.care_plan_update(
        care_plan=plan, actor=therapist, version=2, summary="Low mood since summer; poor sleep and appetite."
    )
    login(therapist)
    page.goto(f"/patients/{patient.public_id}/")
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Care plan history")).to_be_visible()
    newest = page.locator("#version-3")
    expect(newest.locator("del").first).to_contain_text("spring;")
    expect(newest.locator("ins").first).to_contain_text("summer;")
    shoot(page, "care_plan_history")

    page.get_by_role("button", name="Restore version 2's text").click()
    expect(page.get_by_text("Version 2's text restored as version 4.")).to_be_visible()
    expect(page.locator("#version-4")).to_contain_text("restored the text of version 2")
    shoot(page, "care_plan_history_restored")
    page.get_by_role("link", name="Back to the care plan").click()
    expect(page.get_by_text("Low mood since spring; poor sleep.")).to_be_visible()
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
