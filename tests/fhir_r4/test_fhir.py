"""FHIR R4 exchange (issue 18): $everything, search, metadata, bulk $export, transaction import."""

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource

from careplans.models import Patient, TeamRole
from clinic.celery import app as celery_app
from clinic.models import AuditEvent
from fhir_r4.models import BulkExport
from medications.models import Medication, Regimen
from outcomes.models import Assessment
from tests.factories import GoalFactory, UserFactory
from tests.reports import builders
from tests.therapy.factories import modality_catalog_ensure
from therapy.models import ProcessNote

CANARY = "CANARY-PRIVATE-PROCESS-NOTE-7f3a"
FHIR_JSON = "application/fhir+json"


def _world(prescriber: Any, therapist: Any, care_manager: Any, *, sessions: int = 3) -> Patient:
    """A realistic patient: plan with diagnoses and goals, a titrated SSRI, a depot, a stopped
    drug, PHQ-9/GAD-7/WSAS, labs, a therapy course with telehealth sessions and a private note."""
    modality_catalog_ensure()
    team = {TeamRole.PRESCRIBER: prescriber, TeamRole.THERAPIST: therapist, TeamRole.CARE_MANAGER: care_manager}
    patient = builders.patient(team=team, mrn="MRN-0001")
    plan = builders.care_plan(
        patient,
        diagnoses=[
            {"code": "F32.1", "description": "Major depressive disorder, single episode, moderate"},
            {"code": "F41.1", "description": "Generalized anxiety disorder"},
        ],
    )
    GoalFactory(care_plan=plan, target="PHQ-9 below 5", status="active")
    GoalFactory(care_plan=plan, status="achieved")
    sertraline = builders.regimen(patient, "Sertraline", date(2025, 2, 1), by=prescriber)
    builders.dose_change(sertraline, "100", date(2025, 3, 1), by=prescriber)
    builders.dose_change(sertraline, "150", date(2025, 4, 1), by=prescriber)
    depot = builders.regimen(patient, "Paliperidone palmitate 1-monthly", date(2025, 2, 10), by=prescriber, dose="100")
    Regimen.objects.filter(pk=depot.pk).update(frequency="monthly", route="intramuscular")
    builders.regimen(patient, "Mirtazapine", date(2025, 1, 5), by=prescriber, dose="15", stopped_on=date(2025, 1, 30))
    for day, total in [(date(2025, 2, 1), 16), (date(2025, 3, 1), 11), (date(2025, 4, 1), 6)]:
        builders.score(patient, "PHQ-9", total, day, by=care_manager)
        builders.score(patient, "GAD-7", max(total - 4, 0), day, by=care_manager)
    builders.score(patient, "WSAS", 18, date(2025, 2, 1), by=care_manager)
    builders.lab(patient, "sodium", "139", date(2025, 2, 15), by=prescriber)
    builders.lab(patient, "anc", "2100", date(2025, 2, 15), by=prescriber)
    course = builders.course(patient, therapist, "CBT", date(2025, 2, 1))
    for week in range(sessions):
        session = builders.session(course, date(2025, 2, 8) + timedelta(weeks=week), summary="shared summary")
        if week == 1:
            session.format = "telehealth"
            session.save(update_fields=["format"])
        ProcessNote.objects.create(session=session, author=therapist, text=CANARY)
    builders.session(course, date(2025, 1, 20), attendance="no_show")
    return patient


@pytest.fixture
def world(prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    return _world(prescriber, therapist, care_manager)


def _everything(client: Any, patient: Patient) -> Any:
    return client.get(f"/fhir/R4/Patient/{patient.public_id}/$everything")


def _resources(body: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in body.get("entry", []) if kind is None or e["resource"]["resourceType"] == kind]


# --- $everything --------------------------------------------------------------------------


def test_everything_is_a_valid_bundle_of_every_resource(api, world, prescriber):
    response = _everything(api(prescriber), world)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = json.loads(response.content)
    bundle = Bundle.model_validate(body)
    assert bundle.type == "searchset"
    counts: dict[str, int] = {}
    for entry in bundle.entry or []:
        assert isinstance(entry.resource, Resource)
        kind = entry.resource.get_resource_type()
        counts[kind] = counts.get(kind, 0) + 1
        # Every resource parses on its own with the library's model of its type.
        type(entry.resource).model_validate(entry.resource.model_dump(mode="json", exclude_none=True))
    assert counts == {
        "CarePlan": 1,
        "CareTeam": 1,
        "Condition": 2,
        "Encounter": 4,
        "Goal": 2,
        "MedicationRequest": 5,
        "Observation": 9,  # 7 questionnaires + 2 labs
        "Patient": 1,
        "Practitioner": 3,
        "PractitionerRole": 3,
        "QuestionnaireResponse": 7,
    }


def test_everything_codes_and_links(api, world, prescriber):
    body = json.loads(_everything(api(prescriber), world).content)
    patient = _resources(body, "Patient")[0]
    assert patient["identifier"][0]["value"] == "MRN-0001"
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    conditions = _resources(body, "Condition")
    assert {c["code"]["coding"][0]["code"] for c in conditions} == {"F32.1", "F41.1"}
    assert all(c["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm" for c in conditions)
    plan = _resources(body, "CarePlan")[0]
    assert len(plan["addresses"]) == 2 and len(plan["goal"]) == 2
    requests = _resources(body, "MedicationRequest")
    assert all(r["medicationCodeableConcept"]["coding"][0]["system"].endswith("rxnorm") for r in requests)
    sertraline = [r for r in requests if r["medicationCodeableConcept"]["coding"][0]["code"] == "36437"]
    assert [r["status"] for r in sertraline] == ["completed", "completed", "active"]
    assert "priorPrescription" not in sertraline[0]
    assert sertraline[1]["priorPrescription"]["reference"] == f"MedicationRequest/{sertraline[0]['id']}"
    assert sertraline[2]["priorPrescription"]["reference"] == f"MedicationRequest/{sertraline[1]['id']}"
    assert sertraline[2]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 150
    depot = next(r for r in requests if r["medicationCodeableConcept"]["text"].startswith("Paliperidone"))
    assert depot["dosageInstruction"][0]["route"]["coding"][0]["code"] == "78421000"
    assert depot["dosageInstruction"][0]["timing"]["repeat"] == {"frequency": 1, "period": 1, "periodUnit": "mo"}
    stopped = next(r for r in requests if r["medicationCodeableConcept"]["text"] == "Mirtazapine")
    assert stopped["status"] == "stopped"
    observations = _resources(body, "Observation")
    phq9 = [o for o in observations if o["code"]["coding"][0]["code"] == "44261-6"]
    assert [o["valueInteger"] for o in phq9] == [16, 11, 6]
    assert len(phq9[0]["component"]) == 9 and phq9[0]["component"][0]["code"]["coding"][0]["code"] == "44250-9"
    assert len([o for o in observations if o["code"]["coding"][0]["code"] == "70274-6"]) == 3
    sodium = next(o for o in observations if o["code"]["coding"][0]["code"] == "2951-2")
    assert sodium["referenceRange"][0]["low"]["value"] == 135
    encounters = _resources(body, "Encounter")
    assert [e["class"]["code"] for e in encounters] == ["AMB", "AMB", "VR", "AMB"]
    assert [e["status"] for e in encounters] == ["cancelled", "finished", "finished", "finished"]


def test_everything_is_audited_with_ids_only(api, world, prescriber):
    _everything(api(prescriber), world)
    event = AuditEvent.objects.filter(action="export", object_type="fhir.everything").get()
    assert event.object_id == str(world.public_id) and event.patient_id == world.public_id
    assert world.family_name not in json.dumps(event.changes) and "MRN-0001" not in json.dumps(event.changes)


def test_private_process_note_is_never_exported(
    api, world, prescriber, therapist, clinic_admin, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    for user in (prescriber, therapist):
        assert CANARY not in _everything(api(user), world).content.decode()
    admin = api(clinic_admin)
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            kickoff = admin.get("/fhir/R4/$export", HTTP_PREFER="respond-async")
    finally:
        celery_app.conf.task_always_eager = before
    assert kickoff.status_code == 202
    manifest = admin.get(kickoff["Content-Location"]).json()
    for output in manifest["output"]:
        content = admin.get(output["url"]).content.decode()
        assert CANARY not in content


def test_everything_query_count_is_fixed(api, prescriber, therapist, care_manager, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    small = _world(prescriber, therapist, care_manager, sessions=2)
    client = api(prescriber)
    _everything(client, small)  # warm
    with CaptureQueriesContext(connection) as first:
        assert _everything(client, small).status_code == 200
    Patient.objects.filter(pk=small.pk).update(mrn="MRN-OLD")
    big = _world(prescriber, therapist, care_manager, sessions=12)
    with CaptureQueriesContext(connection) as second:
        assert _everything(client, big).status_code == 200
    assert len(first) == len(second), "N+1: " + "\n".join(q["sql"][:90] for q in second.captured_queries)
    # Pinned: 10 reads (patient, team, plans, goals, regimens, dose steps, labs, assessments,
    # courses, sessions) + the audit event: one INSERT, no chain-head lock (issue 14; was 15 with it).
    assert len(second) == 11


# --- visibility and errors ------------------------------------------------------------------


def _patient_urls(patient: Patient) -> list[str]:
    pid = patient.public_id
    return [
        f"/fhir/R4/Patient/{pid}/$everything",
        f"/fhir/R4/Patient/{pid}",
        f"/fhir/R4/Observation?patient={pid}",
        f"/fhir/R4/Observation?patient=Patient/{pid}&code=44261-6",
        f"/fhir/R4/MedicationRequest?patient={pid}",
    ]


@pytest.mark.parametrize("persona", ["outsider", "clinic_admin"])
def test_outsiders_get_404_operation_outcome_on_every_fhir_url_naming_a_patient(
    api, world, outsider, clinic_admin, persona
):  # type: ignore[no-untyped-def]
    client = api(outsider if persona == "outsider" else clinic_admin)
    for url in _patient_urls(world):
        response = client.get(url)
        assert response.status_code == 404, url
        assert OperationOutcome.model_validate(response.json()).issue[0].code == "not-found"
        assert "MRN-0001" not in response.content.decode()
    # Search by identifier finds nothing for them (an empty Bundle, not the patient).
    found = client.get("/fhir/R4/Patient", {"identifier": "urn:tandem:mrn|MRN-0001"}).json()
    assert found["total"] == 0


def test_unknown_and_malformed_ids_are_the_same_404(api, world, prescriber):
    client = api(prescriber)
    for pid in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client.get(f"/fhir/R4/Patient/{pid}/$everything")
        assert response.status_code == 404
        assert response.json()["resourceType"] == "OperationOutcome"


def test_errors_are_operation_outcomes(api, world, prescriber, therapist):
    anonymous = api()
    response = anonymous.get("/fhir/R4/metadata")
    assert response.status_code == 401 and response.json()["resourceType"] == "OperationOutcome"
    bad = api(prescriber).get("/fhir/R4/Observation")
    assert bad.status_code == 400 and OperationOutcome.model_validate(bad.json()).issue[0].code == "required"
    forbidden = api(prescriber).get("/fhir/R4/$export", HTTP_PREFER="respond-async")
    assert forbidden.status_code == 403 and forbidden.json()["resourceType"] == "OperationOutcome"
    garbage = api(prescriber).post("/fhir/R4/", {"resourceType": "Bundle", "type": "nonsense"}, format="json")
    assert garbage.status_code == 400 and garbage.json()["resourceType"] == "OperationOutcome"


# --- search and metadata ------------------------------------------------------------------


def test_search_endpoints(api, world, prescriber):
    client = api(prescriber)
    patients = client.get("/fhir/R4/Patient", {"identifier": "urn:tandem:mrn|MRN-0001"}).json()
    assert patients["total"] == 1 and patients["entry"][0]["resource"]["id"] == str(world.public_id)
    assert client.get("/fhir/R4/Patient", {"identifier": "other-system|MRN-0001"}).json()["total"] == 0
    phq9 = Bundle.model_validate(
        client.get("/fhir/R4/Observation", {"patient": str(world.public_id), "code": "http://loinc.org|44261-6"}).json()
    )
    assert phq9.total == 3
    requests = client.get("/fhir/R4/MedicationRequest", {"patient": str(world.public_id)}).json()
    assert requests["total"] == 5


def test_metadata_is_a_capability_statement(api, prescriber):
    response = api(prescriber).get("/fhir/R4/metadata")
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} == {"Patient", "Observation", "MedicationRequest"}


# --- bulk $export --------------------------------------------------------------------------


def test_bulk_export_kickoff_poll_download_expire(
    api, world, clinic_admin, django_capture_on_commit_callbacks, caplog, monkeypatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("fhir_r4.bulk.BULK_EXPORT_ROWS", 5)
    admin = api(clinic_admin)
    assert admin.get("/fhir/R4/$export").status_code == 400  # no Prefer: respond-async
    with django_capture_on_commit_callbacks(execute=False):
        kickoff = admin.get("/fhir/R4/$export", HTTP_PREFER="respond-async")
    assert kickoff.status_code == 202
    status_url = kickoff["Content-Location"]
    pending = admin.get(status_url)
    assert pending.status_code == 202 and pending["X-Progress"] == "0%"
    export = BulkExport.objects.get()
    from fhir_r4.bulk import export_execute

    with caplog.at_level("WARNING", logger="reports.runs"):
        export_execute(export_id=export.pk)
    assert "bulk export alert" in caplog.text
    done = admin.get(status_url)
    assert done.status_code == 200
    manifest = done.json()
    kinds = {o["type"]: o for o in manifest["output"]}
    assert kinds["Patient"]["count"] == 1 and kinds["MedicationRequest"]["count"] == 5
    lines = admin.get(kinds["Observation"]["url"]).content.decode().strip().splitlines()
    assert len(lines) == 9
    from fhir.resources.R4B.observation import Observation

    for line in lines:
        Observation.model_validate_json(line)
    # Only the requester may read it; then it expires.
    other_admin = api(UserFactory(username="admin2", is_clinic_admin=True))
    assert other_admin.get(status_url).status_code == 404
    assert other_admin.get(kinds["Patient"]["url"]).status_code == 404
    BulkExport.objects.filter(pk=export.pk).update(expires_at=export.created_at)
    gone = admin.get(status_url)
    assert gone.status_code == 410 and gone.json()["resourceType"] == "OperationOutcome"
    assert admin.get(kinds["Patient"]["url"]).status_code == 410
    assert AuditEvent.objects.filter(action="export", object_type="fhir_r4.bulkexport").count() >= 3


# --- import and the round trip --------------------------------------------------------------


def _transaction_from(body: dict[str, Any]) -> dict[str, Any]:
    keep = ("Patient", "MedicationRequest", "Observation")
    entries = []
    for resource in _resources(body):
        if resource["resourceType"] not in keep:
            continue
        if resource["resourceType"] == "Observation" and resource["code"]["coding"][0]["code"] not in (
            "44261-6",
            "70274-6",
        ):
            continue
        entries.append(
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _clinical_content(body: dict[str, Any]) -> dict[str, Any]:
    """What must survive the trip, without ids, authors or timestamps."""
    patient = _resources(body, "Patient")[0]
    requests = [
        (
            r["medicationCodeableConcept"]["coding"][0]["code"],
            r["status"],
            r["dispenseRequest"]["validityPeriod"]["start"],
            r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"],
            json.dumps(r["dosageInstruction"][0].get("timing"), sort_keys=True),
            r["dosageInstruction"][0]["route"]["coding"][0]["code"],
            bool(r.get("priorPrescription")),
        )
        for r in _resources(body, "MedicationRequest")
    ]
    scores = [
        (
            o["code"]["coding"][0]["code"],
            o["effectiveDateTime"],
            o["valueInteger"],
            [c["valueInteger"] for c in o.get("component", [])],
        )
        for o in _resources(body, "Observation")
        if o["code"]["coding"][0]["code"] in ("44261-6", "70274-6")
    ]
    return {
        "patient": (patient["identifier"][0]["value"], patient["name"], patient["birthDate"]),
        "requests": sorted(requests),
        "scores": sorted(scores),
    }


def test_round_trip_export_import_into_an_empty_clinic_export_again(api, prescriber, therapist, care_manager):
    """Export a patient, import the Bundle into an empty clinic (the same database with the
    patient's records rolled back), export again: the same clinical content."""
    importer = UserFactory(username="importer", is_prescriber=True)
    with transaction.atomic():
        source = _world(prescriber, therapist, care_manager)
        first = json.loads(_everything(api(prescriber), source).content)
        transaction.set_rollback(True)
    assert not Patient.objects.exists() and not Assessment.objects.exists()
    payload = _transaction_from(first)
    client = api(importer)
    response = client.post("/fhir/R4/", payload, format="json")
    assert response.status_code == 200, response.content
    assert Bundle.model_validate(response.json()).type == "transaction-response"
    imported = Patient.objects.get(mrn="MRN-0001")
    # The importing prescriber joined the care team, as the patient API does.
    assert imported.care_team.filter(user=importer, ended_at__isnull=True).exists()
    second = json.loads(_everything(client, imported).content)
    assert _clinical_content(second) == _clinical_content(first)
    # A second import records nothing new.
    counts = (Patient.objects.count(), Regimen.objects.count(), Assessment.objects.count())
    again = client.post("/fhir/R4/", payload, format="json")
    assert again.status_code == 200
    assert all(e["response"]["status"] == "200 OK" for e in again.json()["entry"])
    assert (Patient.objects.count(), Regimen.objects.count(), Assessment.objects.count()) == counts
    assert AuditEvent.objects.filter(action="create", object_type="medications.regimen").count() >= 3


def test_import_refuses_an_unknown_rxnorm_code_naming_the_entry(api, prescriber):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:tandem:mrn", "value": "EXT-9"}],
                    "name": [{"family": "Doe", "given": ["Jo"]}],
                    "birthDate": "1990-01-01",
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active",
                    "intent": "order",
                    "subject": {"reference": "urn:uuid:p"},
                    "authoredOn": "2025-01-01",
                    "medicationCodeableConcept": {
                        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999999"}]
                    },
                    "dosageInstruction": [
                        {
                            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                            "doseAndRate": [{"doseQuantity": {"value": 50, "unit": "mg", "code": "mg"}}],
                        }
                    ],
                },
                "request": {"method": "POST", "url": "MedicationRequest"},
            },
        ],
    }
    response = api(prescriber).post("/fhir/R4/", bundle, format="json")
    assert response.status_code == 400
    issue = OperationOutcome.model_validate(response.json()).issue[0]
    assert issue.code == "code-invalid" and "Bundle.entry[1]" in (issue.diagnostics or "")
    assert not Patient.objects.filter(mrn="EXT-9").exists()  # all or nothing


def test_import_needs_a_prescriber_for_regimens_and_care_team_for_a_known_patient(api, world, care_manager, outsider):
    body = json.loads(_everything(api(care_manager), world).content)
    payload = _transaction_from(body)
    forbidden = api(care_manager).post("/fhir/R4/", payload, format="json")
    assert forbidden.status_code == 403 and forbidden.json()["resourceType"] == "OperationOutcome"
    hidden = api(outsider).post("/fhir/R4/", payload, format="json")
    assert hidden.status_code == 404


def test_every_catalog_drug_has_an_rxnorm_code(db):
    assert not Medication.objects.filter(rxnorm="").exists()
    assert all(code.isdigit() for code in Medication.objects.values_list("rxnorm", flat=True))
