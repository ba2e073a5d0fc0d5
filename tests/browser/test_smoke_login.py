def test_clinician_signs_in_and_sees_caseload(page, login, prescriber, patient, screenshot):
    login(prescriber)
    assert page.get_by_role("heading", name="My caseload").is_visible()
    assert page.get_by_role("link", name=patient.display_name).is_visible()
    screenshot("caseload")
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
