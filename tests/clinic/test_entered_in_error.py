"""One "entered in error" mechanism (issue 10): `entered-in-error` on every clinical record, the
first spelling `enter-in-error` kept working and marked deprecated in the schema."""

from datetime import date

import pytest
import yaml
from django.core.exceptions import ValidationError

from clinic.audit import keyed_hash
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditEvent
from outcomes.models import Assessment
from tests.outcomes.helpers import record

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 1)


@pytest.mark.parametrize("spelling", ["entered-in-error", "enter-in-error"])
def test_both_spellings_mark_an_assessment(api, patient, care_manager, therapist, outsider, spelling):
    assessment = record(patient, care_manager, "PHQ-9", 12, DAY)
    url = f"/api/v1/assessments/{assessment.public_id}/{spelling}/"
    assert api(outsider).post(url, {"reason": "x"}, format="json").status_code == 404
    assert api(therapist).post(url, {"reason": "Wrong patient"}, format="json").status_code == 204
    marked = Assessment.all_records.get(pk=assessment.pk)
    assert marked.entered_in_error_by == therapist and marked.entered_in_error_reason == "Wrong patient"


def test_the_old_spelling_is_deprecated_in_the_schema(api, prescriber):
    schema = yaml.safe_load(api(prescriber).get("/api/schema/").content)
    for resource in ("assessments", "therapy-sessions"):
        old = schema["paths"][f"/api/v1/{resource}/{{public_id}}/enter-in-error/"]["post"]
        new = schema["paths"][f"/api/v1/{resource}/{{public_id}}/entered-in-error/"]["post"]
        assert old.get("deprecated") is True and not new.get("deprecated")
    for resource in ("lab-results", "side-effects", "adherence-checks"):
        assert f"/api/v1/{resource}/{{public_id}}/entered-in-error/" in schema["paths"]


def test_a_reason_is_required_and_a_record_is_marked_once(patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 12, DAY)
    with pytest.raises(ValidationError) as blank:
        entered_in_error_mark(record=assessment, actor=care_manager, reason="  ", patient_id=patient.public_id)
    assert "Say why this entry was entered in error." in blank.value.messages
    entered_in_error_mark(record=assessment, actor=care_manager, reason="Duplicate", patient_id=patient.public_id)
    with pytest.raises(ValidationError, match="already marked"):
        entered_in_error_mark(record=assessment, actor=care_manager, reason="Again", patient_id=patient.public_id)
    event = AuditEvent.objects.get(action="enter_in_error", object_id=str(assessment.public_id))
    # The reason is free text: the trail keeps its keyed hash, not the words (issue 12 item 2).
    assert event.changes == {"reason": [None, keyed_hash("Duplicate")]} and event.patient_id == patient.public_id
