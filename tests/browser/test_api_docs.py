"""HD-1: the Swagger UI at /api/docs/ renders under the strict CSP (issue 10 item 8).

Before clinic/api_docs.py the page stayed blank: Chromium blocked drf-spectacular's inline init
script and inline <style>.
"""

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS


def _csp_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [m for m in page.console_messages if "Content Security Policy" in m]


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    # The viewport only (the full listing is thousands of pixels tall); caret="initial" because
    # Playwright's caret hiding injects an inline style that our CSP would report.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), caret="initial")


def test_api_docs_list_the_operations_with_no_csp_violation(page, login, prescriber, patient):
    login(prescriber)
    page.goto("/api/docs/")
    # The operations come from /api/schema/, fetched by the init script: one of them listed
    # means the bundle, the init script and the (session-authenticated) schema request all ran.
    patients_list = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/patients/"]'))
    # Generating the whole schema takes seconds on a loaded 2-core CI machine.
    expect(patients_list).to_be_visible(timeout=30_000)
    expect(page.locator(".opblock").first).to_be_visible()
    _shot(page, "api_docs")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(patients_list).to_be_visible()
    _shot(page, "api_docs_phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # "Try it out" sends a real request with the session cookie: the UI works, not just paints.
    patients_list.locator(".opblock-summary").click()
    patients_list.get_by_role("button", name="Try it out").click()
    patients_list.get_by_role("button", name="Execute").click()
    expect(patients_list.locator(".live-responses-table tr.response .response-col_status").first).to_have_text("200")
    expect(patients_list.locator(".live-responses-table")).to_contain_text(patient.mrn)
    patients_list.scroll_into_view_if_needed()
    _shot(page, "api_docs_try_it_out")

    assert not _csp_violations(page), _csp_violations(page)
