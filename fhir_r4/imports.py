"""`POST /fhir/R4/`: a transaction Bundle from another EHR (issue 18).

Patient (matched by MRN, else created: the importing clinician joins the care team, as the
patient API does), MedicationRequests (matched to the catalog by RxNorm code; recorded through
the medications services: a regimen per `groupIdentifier`, or per request, its later steps as
dose changes), and Observations for PHQ-9/GAD-7 with their item answers (the outcomes service
scores them). Every write is audited by its service. All or nothing: one refused entry (an
unknown RxNorm code, a dose over the limit, ...) rolls the whole Bundle back with an
OperationOutcome naming the entry. A second import of the same Bundle records nothing new.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from pydantic import ValidationError as PydanticValidationError

from careplans.models import Patient
from careplans.services import patient_create
from clinic.access import Action, patients_in_scope, require, visible_or_404
from clinic.models import User
from fhir_r4 import codes
from medications.models import DoseChange, Medication, Regimen, RegimenStatus
from medications.services import dose_change_record, regimen_start, regimen_status_change
from outcomes.instruments import INSTRUMENTS
from outcomes.models import Assessment
from outcomes.services import assessment_record

FREQUENCY_BY_TIMING = {value: key for key, value in codes.TIMING.items()}


def _refuse(index: int, text: str, code: str = "invalid") -> Exception:
    from fhir_r4.views import FhirError

    return FhirError(400, code, f"Bundle.entry[{index}]: {text}", f"Bundle.entry[{index}]")


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class Step:
    index: int
    request: MedicationRequest
    dose: Decimal
    unit: str
    frequency: str
    route: str
    max_doses_per_day: int | None
    effective_on: date
    status: str


@dataclass
class Result:
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, public_id: Any, created: bool) -> None:
        self.entries.append(
            {"response": {"status": "201 Created" if created else "200 OK", "location": f"{kind}/{public_id}"}}
        )


def _mrn(patient: FhirPatient, index: int) -> str:
    for identifier in patient.identifier or []:
        is_mr = any(c.code == "MR" for c in ((identifier.type.coding or []) if identifier.type else []))
        if identifier.value and (identifier.system == codes.MRN_SYSTEM or is_mr):
            return str(identifier.value)
    raise _refuse(index, "the Patient has no MRN identifier (type MR or system urn:tandem:mrn).", "required")


def _patient(user: User, resource: FhirPatient, index: int, result: Result) -> Patient:
    mrn = _mrn(resource, index)
    if Patient.objects.filter(mrn=mrn).exists():
        # Matched: only a care-team member may add to it (anyone else: the same audited 404).
        patient = visible_or_404(patients_in_scope(user), user=user, public_id=Patient.objects.get(mrn=mrn).public_id)
        result.add("Patient", patient.public_id, created=False)
        return patient
    name = next((n for n in resource.name or [] if n.use in (None, "official")), None)
    if name is None or not name.family or not name.given or resource.birthDate is None:
        raise _refuse(index, "a new Patient needs an official name (family and given) and a birthDate.", "required")
    optional: dict[str, Any] = {}
    for telecom in resource.telecom or []:
        if telecom.system == "phone" and telecom.value:
            optional["phone"] = telecom.value
        if telecom.system == "email" and telecom.value:
            optional["email"] = telecom.value
    usual = next((n for n in resource.name or [] if n.use == "usual" and n.given), None)
    if usual is not None and usual.given and usual.given[0]:
        optional["preferred_name"] = usual.given[0]
    given, birth_date = name.given[0], _day(resource.birthDate)
    if not given or birth_date is None:
        raise _refuse(index, "a new Patient needs a given name and a birthDate.", "required")
    patient = patient_create(
        actor=user,
        mrn=mrn,
        given_name=given,
        family_name=name.family,
        birth_date=birth_date,
        **optional,
    )
    result.add("Patient", patient.public_id, created=True)
    return patient


def _step(index: int, request: MedicationRequest) -> Step:
    if not request.dosageInstruction:
        raise _refuse(index, "the MedicationRequest has no dosageInstruction.", "required")
    dosage = request.dosageInstruction[0]
    quantity = next((d.doseQuantity for d in dosage.doseAndRate or [] if d.doseQuantity), None)
    if quantity is None or quantity.value is None:
        raise _refuse(index, "the dosage has no doseQuantity.", "required")
    unit = {"mg": "mg", "ug": "mcg", "mcg": "mcg"}.get(str(quantity.code or quantity.unit or "mg"))
    if unit is None:
        raise _refuse(index, f"dose unit {quantity.code or quantity.unit} is not mg or ug.", "not-supported")
    max_per_day = None
    if dosage.asNeededBoolean:
        frequency = "as_needed"
        if dosage.maxDosePerPeriod and dosage.maxDosePerPeriod.numerator and dosage.maxDosePerPeriod.numerator.value:
            max_per_day = max(1, int(Decimal(dosage.maxDosePerPeriod.numerator.value) / Decimal(quantity.value)))
        else:
            max_per_day = 1
    else:
        repeat = dosage.timing.repeat if dosage.timing else None
        if repeat is None:
            raise _refuse(index, "the dosage has no timing.repeat.", "required")
        when = repeat.when[0] if repeat.when else None
        key = (int(repeat.frequency or 1), Decimal(repeat.period or 1).normalize(), str(repeat.periodUnit), when)
        found = next(
            (f for (fr, pe, un, wh), f in FREQUENCY_BY_TIMING.items() if (fr, pe.normalize(), un, wh) == key), None
        )
        if found is None:
            raise _refuse(index, "this timing is not one Tandem records.", "not-supported")
        frequency = found
    route = "oral"
    if dosage.route:
        route = next(
            (codes.ROUTE_BY_SNOMED[c.code] for c in dosage.route.coding or [] if c.code in codes.ROUTE_BY_SNOMED),
            "",
        )
        if not route:
            raise _refuse(index, "the route is not one Tandem records (oral, sublingual, IM, transdermal).")
    start = None
    if request.dispenseRequest and request.dispenseRequest.validityPeriod:
        start = _day(request.dispenseRequest.validityPeriod.start)
    start = start or _day(request.authoredOn)
    if start is None:
        raise _refuse(index, "the MedicationRequest has no authoredOn or validityPeriod.start.", "required")
    return Step(
        index,
        request,
        Decimal(str(quantity.value)),
        unit,
        frequency,
        route,
        max_per_day,
        start,
        str(request.status),
    )


def _medication(index: int, request: MedicationRequest, frequency: str) -> Medication:
    concept = request.medicationCodeableConcept
    rxcuis = [c.code for c in (concept.coding or []) if c.system == codes.RXNORM and c.code] if concept else []
    if not rxcuis:
        raise _refuse(index, "the MedicationRequest carries no RxNorm code.", "required")
    matches = list(Medication.objects.filter(rxnorm__in=rxcuis, is_active=True))
    if not matches:
        raise _refuse(index, f"RxNorm {', '.join(rxcuis)} is not in Tandem's medication catalog.", "code-invalid")
    if len(matches) > 1:  # several products of one ingredient: the name, then the route decides
        named = [m for m in matches if concept is not None and m.name == concept.text]
        if named:
            return named[0]
        injection = frequency in ("every_2_weeks", "every_4_weeks", "monthly", "every_3_months", "every_6_months")
        matches = [m for m in matches if m.long_acting_injectable == injection] or matches
    return matches[0]


def _regimens(user: User, patient: Patient, groups: list[list[Step]], result: Result) -> None:
    for steps in groups:
        steps.sort(key=lambda s: (s.effective_on, s.index))
        first = steps[0]
        medication = _medication(first.index, first.request, first.frequency)
        regimen = (
            Regimen.objects.filter(patient=patient, medication=medication, start_date=first.effective_on)
            .order_by("id")
            .first()
        )
        try:
            if regimen is None:
                regimen = regimen_start(
                    patient=patient,
                    medication=medication,
                    dose=first.dose,
                    unit=first.unit,
                    frequency=first.frequency,
                    route=first.route,
                    max_doses_per_day=first.max_doses_per_day,
                    start_date=first.effective_on,
                    indication=(first.request.reasonCode[0].text or "") if first.request.reasonCode else "",
                    actor=user,
                )
                result.add("MedicationRequest", regimen.dose_changes.order_by("id").first().public_id, created=True)  # type: ignore[union-attr]
            else:
                result.add("MedicationRequest", regimen.dose_changes.order_by("id").first().public_id, created=False)  # type: ignore[union-attr]
            known = {(c.effective_on, c.dose) for c in DoseChange.objects.filter(regimen=regimen)}
            for step in steps[1:]:
                if (step.effective_on, step.dose) in known:
                    continue
                change = dose_change_record(
                    regimen=regimen,
                    dose=step.dose,
                    unit=step.unit,
                    reason="Imported from another EHR (FHIR)",
                    effective_on=step.effective_on,
                    actor=user,
                )
                result.add("MedicationRequest", change.public_id, created=True)
            last = steps[-1]
            regimen.refresh_from_db()
            wanted = {"on-hold": RegimenStatus.PAUSED, "stopped": RegimenStatus.STOPPED}.get(last.status)
            if wanted and regimen.status != wanted:
                reason = (last.request.statusReason.text if last.request.statusReason else "") or "Imported (FHIR)"
                regimen_status_change(regimen=regimen, status=wanted, reason=reason, actor=user)
        except ValidationError as error:
            raise _refuse(first.index, "; ".join(error.messages)) from None


def _assessment(user: User, patient: Patient, index: int, observation: Observation, result: Result) -> None:
    loincs = {c.code for c in (observation.code.coding or []) if c.system == codes.LOINC}
    instrument = next((i for i in INSTRUMENTS.values() if i.loinc_total and i.loinc_total in loincs), None)
    if instrument is None:
        raise _refuse(index, "only PHQ-9 (44261-6) and GAD-7 (70274-6) Observations are imported.", "not-supported")
    answers: dict[str, int] = {}
    for component in observation.component or []:
        for coding in component.code.coding or []:
            if coding.system == codes.LOINC and component.valueInteger is not None:
                answers[str(coding.code)] = int(component.valueInteger)
    try:
        responses = [answers[str(item.loinc)] for item in instrument.items]
    except KeyError:
        raise _refuse(
            index, f"the {instrument.code.value} Observation needs every item answer as a component."
        ) from None
    day = _day(observation.effectiveDateTime)
    if day is None:
        raise _refuse(index, "the Observation has no effectiveDateTime.", "required")
    existing = Assessment.objects.filter(
        patient=patient, instrument=instrument.code, administered_on=day, responses=responses
    ).first()
    if existing is not None:
        result.add("Observation", existing.public_id, created=False)
        return
    try:
        made = assessment_record(
            patient=patient, actor=user, instrument=instrument.code, responses=responses, administered_on=day
        )
    except ValidationError as error:
        raise _refuse(index, "; ".join(error.messages)) from None
    result.add("Observation", made.public_id, created=True)


def transaction_import(*, user: User, payload: Any, base_url: str) -> Bundle:
    require(user, Action.CREATE_PATIENT, object_type="fhir.transaction", object_id="import")
    try:
        bundle = Bundle.model_validate(payload)
    except (PydanticValidationError, ValueError, TypeError) as error:
        from fhir_r4.views import FhirError

        raise FhirError(400, "structure", f"Not a valid FHIR R4 Bundle: {str(error)[:500]}") from None
    if bundle.type not in ("transaction", "batch"):
        raise _refuse(0, "send a Bundle of type transaction.", "invalid")
    entries = list(enumerate(bundle.entry or []))
    patients = [(i, e.resource) for i, e in entries if e.resource and e.resource.get_resource_type() == "Patient"]
    if len(patients) != 1:
        raise _refuse(0, "a transaction names exactly one Patient.", "invalid")
    result = Result()
    with transaction.atomic():
        patient_index, patient_resource = patients[0]
        patient = _patient(user, patient_resource, patient_index, result)  # type: ignore[arg-type]
        groups: dict[str, list[Step]] = defaultdict(list)
        observations = []
        for index, entry in entries:
            resource = entry.resource
            kind = resource.get_resource_type() if resource else ""
            if kind == "MedicationRequest":
                if not user_may_prescribe(user):
                    from fhir_r4.views import FhirError

                    raise FhirError(403, "forbidden", f"Bundle.entry[{index}]: only prescribers record regimens.")
                step = _step(index, resource)  # type: ignore[arg-type]
                group = resource.groupIdentifier.value if resource.groupIdentifier else None  # type: ignore[union-attr]
                groups[str(group or f"entry-{index}")].append(step)
            elif kind == "Observation":
                observations.append((index, resource))
            elif kind != "Patient":
                raise _refuse(
                    index, f"{kind} is not imported (Patient, MedicationRequest, Observation).", "not-supported"
                )
        _regimens(user, patient, list(groups.values()), result)
        for index, observation in observations:
            _assessment(user, patient, index, observation, result)  # type: ignore[arg-type]
    return Bundle.model_validate({"type": "transaction-response", "entry": result.entries or None})


def user_may_prescribe(user: User) -> bool:
    from clinic.access import user_can

    return user_can(user, Action.PRESCRIBE)
