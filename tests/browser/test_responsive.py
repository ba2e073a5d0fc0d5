"""Phone, tablet and desktop (issue 16 item 7) in real Chromium, on the seeded demo clinic.

At 390, 768 and 1280 px every main page fits the width (no sideways scrolling), the header
collapses behind a Menu button below 960 px, the monitoring table's Status column is on
screen at phone width, the focus ring has at least 3:1 contrast, and axe-core finds no
serious or critical violation. Screenshots go to test-artifacts/screenshots/responsive-*.
"""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from careplans.management.commands.seed_demo import DEMO_PASSWORD
from careplans.models import CareTeamMember, TeamRole
from medications.models import Regimen
from tests.browser.conftest import ARTIFACTS
from tests.medications.conftest import ensure_catalog
from tests.therapy.factories import modality_catalog_ensure

WIDTHS = (390, 768, 1280)
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    """The demo clinic, and a lithium patient's prescriber (lithium has a monitoring protocol)."""
    ensure_catalog()  # an earlier transactional test's flush may have emptied the shipped catalogs
    modality_catalog_ensure()
    call_command("seed_demo", allow_production=True, verbosity=0)
    regimen = Regimen.objects.select_related("patient").filter(medication__name="Lithium carbonate").first()
    assert regimen is not None
    member = CareTeamMember.objects.select_related("user").get(
        patient=regimen.patient, role=TeamRole.PRESCRIBER, ended_at__isnull=True
    )
    return regimen.patient, member.user


def _pages(patient) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pid = patient.public_id
    return {
        "today": "/",
        "caseload": "/caseload/",
        "search": "/patients/search/?q=a",
        "overview": f"/patients/{pid}/outcomes/",
        "care-plan": f"/patients/{pid}/",
        "medications": f"/patients/{pid}/medications/",
        "therapy": f"/patients/{pid}/therapy/",
        "inbox": "/inbox/",
        "care-plan-history": f"/patients/{pid}/care-plan/history/",
        "take-home-plan": f"/patients/{pid}/plan/print/",
        "care-team": f"/patients/{pid}/care-team/",
        "cocm-minutes": f"/patients/{pid}/care-minutes/",
        "reports": "/reports/",
    }


def _sign_in(page, user) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _new_page(chromium, live_server, width: int, *, bypass_csp: bool = False):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"responsive-{name}.png"), full_page=False, caret="initial")
    page.screenshot(path=str(ARTIFACTS / f"responsive-{name}-full.png"), full_page=True, caret="initial")


def _sideways_overflow(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def test_main_pages_fit_the_width_and_the_header_collapses_below_960px(chromium, live_server, demo):  # type: ignore[no-untyped-def]
    patient, prescriber = demo
    for width in WIDTHS:  # one seeded clinic for all three widths (seeding is the slow part)
        _check_width(chromium, live_server, patient, prescriber, width)


def _check_width(chromium, live_server, patient, prescriber, width: int) -> None:  # type: ignore[no-untyped-def]
    context, page = _new_page(chromium, live_server, width)
    try:
        _sign_in(page, prescriber)
        for name, url in _pages(patient).items():
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            page.wait_for_load_state("networkidle")
            assert _sideways_overflow(page) == 0, f"{name} scrolls sideways at {width} px"
            _shot(page, f"{name}-{width}")

        menu = page.get_by_role("button", name="Menu")
        caseload_link = page.locator("#main-menu").get_by_role("link", name="My caseload")
        if width < 960:
            expect(menu).to_be_visible()
            expect(caseload_link).to_be_hidden()
            menu.focus()
            page.keyboard.press("Enter")
            expect(menu).to_have_attribute("aria-expanded", "true")
            expect(caseload_link).to_be_visible()
            _shot(page, f"menu-open-{width}")
            page.keyboard.press("Escape")
            expect(caseload_link).to_be_hidden()
            expect(menu).to_be_focused()
        else:
            expect(menu).to_be_hidden()
            expect(caseload_link).to_be_visible()
    finally:
        context.close()


def test_monitoring_status_on_screen_at_phone_width_and_focus_ring_contrast(chromium, live_server, demo):  # type: ignore[no-untyped-def]
    patient, prescriber = demo
    _check_monitoring_card(chromium, live_server, patient, prescriber)
    _check_focus_ring(chromium, live_server, patient, prescriber)


def _check_monitoring_card(chromium, live_server, patient, prescriber) -> None:  # type: ignore[no-untyped-def]
    context, page = _new_page(chromium, live_server, 390)
    try:
        _sign_in(page, prescriber)
        page.goto(f"/patients/{patient.public_id}/medications/")
        status = page.locator('table.monitoring td[data-label="Status"]').first
        expect(status).to_be_visible()
        box = status.bounding_box()
        assert box is not None and box.get("x", 0) >= 0 and box["x"] + box["width"] <= 390
        # The card says what the value is: the label comes from the column header.
        label = page.evaluate("el => getComputedStyle(el, '::before').content", status.element_handle())
        assert label == '"Status"'
        status.scroll_into_view_if_needed()
        _shot(page, "monitoring-card-390")
    finally:
        context.close()


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    return int(float(parts[0])), int(float(parts[1])), int(float(parts[2]))


def _check_focus_ring(chromium, live_server, patient, prescriber) -> None:  # type: ignore[no-untyped-def]
    context, page = _new_page(chromium, live_server, 1280)
    try:
        _sign_in(page, prescriber)
        page.goto(f"/patients/{patient.public_id}/medications/")
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")  # the brand link: the first focusable link on white
        ring = page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
                        tag: document.activeElement.tagName}; }"""
        )
        assert ring["tag"] == "A"
        assert ring["style"] == "solid" and ring["width"] >= 2
        assert _contrast(_rgb(ring["color"]), (255, 255, 255)) >= 3.0
        _shot(page, "focus-ring-1280")
    finally:
        context.close()


def test_axe_finds_no_serious_violation_on_the_main_pages(chromium, live_server, demo):  # type: ignore[no-untyped-def]
    patient, prescriber = demo
    found = {}
    for width in (390, 1280):
        found.update(_axe_serious(chromium, live_server, patient, prescriber, width))
    assert found == {}


def _axe_serious(chromium, live_server, patient, prescriber, width: int) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    # axe-core is injected as a script tag, which our CSP (rightly) forbids; only this test's
    # browser context bypasses it.
    context, page = _new_page(chromium, live_server, width, bypass_csp=True)
    try:
        _sign_in(page, prescriber)
        found: dict[str, list[str]] = {}
        for name, url in _pages(patient).items():
            page.goto(url)
            page.wait_for_load_state("networkidle")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
                "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
            )
            serious = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']})"
                for v in result["violations"]
                if v["impact"] in SERIOUS
            ]
            if serious:
                found[f"{name}@{width}"] = serious
        return found
    finally:
        context.close()
