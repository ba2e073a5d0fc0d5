"""Session summary and private note are bounded (issue 12 item 8): limit saved, limit + 1 a field error."""

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.validators import LONG_TEXT_MAX_LENGTH
from therapy.models import ProcessNote, TherapySession


def _body(patient, **extra):  # type: ignore[no-untyped-def]
    return {"patient": str(patient.public_id), "modality": "CBT", "session_date": str(timezone.localdate()), **extra}


@pytest.mark.parametrize("field", ["summary", "private_note"])
def test_api_accepts_the_limit_and_refuses_one_more(api, therapist, patient, course, field):
    client = api(therapist)
    ok = client.post("/api/v1/therapy-sessions/", _body(patient, **{field: "s" * LONG_TEXT_MAX_LENGTH}), format="json")
    assert ok.status_code == 201, ok.content
    too_long = client.post(
        "/api/v1/therapy-sessions/",
        _body(patient, attendance="no_show", **{field: "s" * (LONG_TEXT_MAX_LENGTH + 1)}),
        format="json",
    )
    assert too_long.status_code == 400 and "20000" in " ".join(too_long.json()[field])
    assert TherapySession.objects.filter(course=course).count() == 1


def test_page_refuses_an_over_long_private_note_with_a_field_error_and_keeps_it(browser_client, therapist, course):
    url = reverse("therapy:session_log", kwargs={"patient_id": course.patient.public_id, "course_id": course.public_id})
    text = "n" * (LONG_TEXT_MAX_LENGTH + 1)
    response = browser_client(therapist).post(
        url,
        {
            "session_date": str(timezone.localdate()),
            "attendance": "attended",
            "format": "in_person",
            "duration_minutes": "50",
            "risk_level": "none",
            "private_note": text,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_private_note_error"' in body and text in body
    assert not ProcessNote.objects.exists()
