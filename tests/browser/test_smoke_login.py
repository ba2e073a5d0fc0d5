from playwright.sync_api import expect


def test_clinician_signs_in_and_sees_caseload(page, login, prescriber, patient, screenshot):
    login(prescriber)
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()  # clinicians land on Today
    page.get_by_role("navigation", name="Views").get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("link", name=patient.display_name)).to_be_visible()
    screenshot("caseload")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
