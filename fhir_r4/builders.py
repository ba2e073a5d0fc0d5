"""Tandem records -> FHIR R4 resources, each built and validated by `fhir.resources` (R4B models).

Only shared clinical content is exported: no private process notes (therapy.ProcessNote is
never read here), no internal flags, no audit data. Every resource id is the record's
public id, so a second export names the same resources.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Prefetch
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from careplans.models import CarePlan, CareTeamMember, Goal, Patient
from careplans.selectors import care_team_of
from clinic.models import User
from fhir_r4 import codes
from medications.models import DoseChange, LabResult, Medication, Regimen
from outcomes.instruments import INSTRUMENTS
from outcomes.models import Assessment
from outcomes.selectors import assessments_of
from therapy.models import TherapyCourse, TherapySession

CAREPLAN_STATUS = {"draft": "draft", "active": "active", "on_hold": "on-hold", "completed": "completed"}
GOAL_LIFECYCLE = {
    "proposed": ("proposed", None),
    "active": ("active", "in-progress"),
    "achieved": ("completed", "achieved"),
    "revised": ("cancelled", "not-achieved"),
    "discontinued": ("cancelled", "not-achieved"),
}
REGIMEN_STATUS = {"active": "active", "paused": "on-hold", "stopped": "stopped"}
ENCOUNTER_STATUS = {
    "attended": "finished",
    "cancelled": "cancelled",
    "late_cancel": "cancelled",
    "no_show": "cancelled",
}
COURSE_ACTIVITY_STATUS = {
    "active": "in-progress",
    "on_hold": "on-hold",
    "completed": "completed",
    "discontinued": "stopped",
}


R = TypeVar("R", bound=Resource)


def make(model: type[R], **fields: Any) -> R:
    """Build and validate one resource with the library's model (never JSON by hand)."""
    return model.model_validate(fields)


def ref(resource_type: str, public_id: Any) -> dict[str, str]:
    return {"reference": f"{resource_type}/{public_id}"}


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _plain(value: Decimal) -> Decimal:
    """10.000 -> 10, 2.500 -> 2.5 (never 1E+1)."""
    number = value.normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def _quantity(value: Decimal | int, unit: str) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _plain(value) if isinstance(value, Decimal) else value}
    if unit:
        out.update(unit=unit, system=codes.UCUM, code=unit)
    return out


# --- one resource each -------------------------------------------------------------------


def patient_resource(patient: Patient) -> FhirPatient:
    name: dict[str, Any] = {"use": "official", "family": patient.family_name, "given": [patient.given_name]}
    names = [name]
    if patient.preferred_name:
        names.append({"use": "usual", "given": [patient.preferred_name]})
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return make(
        FhirPatient,
        id=str(patient.public_id),
        identifier=[
            {
                "use": "usual",
                "type": {"coding": [_coding(codes.V2_0203, "MR", "Medical record number")]},
                "system": codes.MRN_SYSTEM,
                "value": patient.mrn,
            }
        ],
        active=patient.status == "active",
        name=names,
        telecom=telecom or None,
        birthDate=patient.birth_date,
    )


def practitioner_resource(user: User) -> Practitioner:
    return make(
        Practitioner,
        id=str(user.public_id),
        name=[{"family": user.last_name or user.username, "given": [user.first_name] if user.first_name else None}],
    )


def practitioner_role_resource(member: CareTeamMember) -> PractitionerRole:
    return make(
        PractitionerRole,
        id=str(member.public_id),
        active=member.ended_at is None,
        practitioner=ref("Practitioner", member.user.public_id),
        code=[{"coding": [_coding(codes.TEAM_ROLE_SYSTEM, member.role, member.get_role_display())]}],
        period={"start": member.started_at},
    )


def care_team_resource(patient: Patient, members: list[CareTeamMember]) -> CareTeam:
    return make(
        CareTeam,
        id=str(patient.public_id),
        status="active",
        name="Care team",
        subject=ref("Patient", patient.public_id),
        participant=[
            {
                "role": [{"coding": [_coding(codes.TEAM_ROLE_SYSTEM, m.role, m.get_role_display())]}],
                "member": ref("PractitionerRole", m.public_id),
                "period": {"start": m.started_at},
            }
            for m in members
        ]
        or None,
    )


def condition_id(plan: CarePlan, number: int) -> str:
    return f"{plan.public_id}-dx{number}"


def condition_resources(patient: Patient, plan: CarePlan) -> list[Condition]:
    out = []
    for number, diagnosis in enumerate(plan.diagnoses or [], start=1):
        code: dict[str, Any] = {"text": diagnosis.get("description") or diagnosis.get("code")}
        if diagnosis.get("code"):
            code["coding"] = [_coding(codes.ICD10CM, diagnosis["code"], diagnosis.get("description", ""))]
        out.append(
            make(
                Condition,
                id=condition_id(plan, number),
                clinicalStatus={"coding": [_coding(codes.CONDITION_CLINICAL, "active")]},
                category=[{"coding": [_coding(codes.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}],
                code=code,
                subject=ref("Patient", patient.public_id),
            )
        )
    return out


def goal_resource(patient: Patient, goal: Goal) -> FhirGoal:
    lifecycle, achievement = GOAL_LIFECYCLE[goal.status]
    target = None
    if goal.target or goal.due_date:
        item: dict[str, Any] = {}
        if goal.target:
            item["detailString"] = goal.target
            for instrument in INSTRUMENTS.values():
                if instrument.loinc_total and instrument.code.value in goal.target.upper():
                    item["measure"] = {"coding": [_coding(codes.LOINC, instrument.loinc_total, instrument.name)]}
        if goal.due_date:
            item["dueDate"] = goal.due_date
        target = [item]
    return make(
        FhirGoal,
        id=str(goal.public_id),
        lifecycleStatus=lifecycle,
        achievementStatus={"coding": [_coding(codes.GOAL_ACHIEVEMENT, achievement)]} if achievement else None,
        category=[{"text": goal.get_domain_display()}],
        description={"text": goal.description},
        subject=ref("Patient", patient.public_id),
        target=target,
        statusDate=goal.status_changed_at.date(),
    )


def care_plan_resource(
    patient: Patient,
    plan: CarePlan,
    goals: list[Goal],
    current_requests: list[str],
    courses: list[TherapyCourse],
) -> FhirCarePlan:
    activities: list[dict[str, Any]] = [{"reference": ref("MedicationRequest", rid)} for rid in current_requests]
    for course in courses:
        activities.append(
            {
                "detail": {
                    "kind": "ServiceRequest",
                    "code": {"coding": [_coding(codes.MODALITY_SYSTEM, course.modality.code, course.modality.name)]},
                    "status": COURSE_ACTIVITY_STATUS.get(course.status, "unknown"),
                    "scheduledPeriod": {
                        "start": course.started_on,
                        **({"end": course.ended_on} if course.ended_on else {}),
                    },
                    "performer": [ref("Practitioner", course.therapist.public_id)],
                    "description": f"{course.modality.name} ({course.get_planned_frequency_display()})",
                }
            }
        )
    return make(
        FhirCarePlan,
        id=str(plan.public_id),
        status=CAREPLAN_STATUS[plan.status],
        intent="plan",
        title="Shared care plan",
        description=plan.summary or None,
        subject=ref("Patient", patient.public_id),
        period={"start": plan.created_at, **({"end": plan.review_date} if plan.review_date else {})},
        careTeam=[ref("CareTeam", patient.public_id)],
        addresses=[ref("Condition", condition_id(plan, n)) for n in range(1, len(plan.diagnoses or []) + 1)] or None,
        goal=[ref("Goal", g.public_id) for g in goals] or None,
        activity=activities or None,
    )


def medication_concept(medication: Medication) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": medication.name}
    if medication.rxnorm:
        concept["coding"] = [_coding(codes.RXNORM, medication.rxnorm, medication.name)]
    return concept


def dosage(regimen: Regimen, dose: Decimal) -> dict[str, Any]:
    route_code, route_display = codes.ROUTES[regimen.route]
    out: dict[str, Any] = {
        "text": f"{_plain(dose)} {regimen.unit} {regimen.get_frequency_display().lower()}",
        "route": {"coding": [_coding(codes.SNOMED, route_code, route_display)]},
        "doseAndRate": [{"doseQuantity": _quantity(dose, codes.UCUM_DOSE[regimen.unit])}],
    }
    if regimen.frequency == "as_needed":
        out["asNeededBoolean"] = True
        out["maxDosePerPeriod"] = {
            "numerator": _quantity(dose * (regimen.max_doses_per_day or 1), codes.UCUM_DOSE[regimen.unit]),
            "denominator": _quantity(1, "d"),
        }
    else:
        frequency, period, unit, when = codes.TIMING[regimen.frequency]
        repeat: dict[str, Any] = {"frequency": frequency, "period": period, "periodUnit": unit}
        if when:
            repeat["when"] = [when]
        out["timing"] = {"repeat": repeat, "code": {"text": regimen.get_frequency_display()}}
    return out


def medication_request_resources(
    patient: Patient, regimen: Regimen, steps: list[DoseChange]
) -> list[MedicationRequest]:
    """One MedicationRequest per dose step; each later step names the one it replaced."""
    out = []
    for index, step in enumerate(steps):
        last = index == len(steps) - 1
        status = REGIMEN_STATUS[regimen.status] if last else "completed"
        reason = step.get_reason_code_display() if step.reason_code else "Dose change"
        out.append(
            make(
                MedicationRequest,
                id=str(step.public_id),
                identifier=[{"system": codes.REGIMEN_SYSTEM, "value": f"{regimen.public_id}/{step.public_id}"}],
                groupIdentifier={"system": codes.REGIMEN_SYSTEM, "value": str(regimen.public_id)},
                status=status,
                statusReason={"text": regimen.status_reason} if last and regimen.status_reason else None,
                intent="order",
                medicationCodeableConcept=medication_concept(regimen.medication),
                subject=ref("Patient", patient.public_id),
                authoredOn=step.changed_at,
                requester=ref("Practitioner", step.changed_by.public_id),
                reasonCode=[{"text": regimen.indication}] if regimen.indication else None,
                courseOfTherapyType={"text": "Long-acting injection"} if regimen.is_injection else None,
                note=[{"text": f"{reason}: {step.reason}"}],
                dosageInstruction=[dosage(regimen, step.dose)],
                dispenseRequest={
                    "validityPeriod": {
                        "start": step.effective_on,
                        **(
                            {"end": steps[index + 1].effective_on}
                            if not last
                            else ({"end": regimen.stopped_on} if regimen.stopped_on else {})
                        ),
                    }
                },
                priorPrescription=ref("MedicationRequest", steps[index - 1].public_id) if index else None,
            )
        )
    return out


def _panel(code: str) -> tuple[dict[str, Any], Any]:
    instrument = INSTRUMENTS[code]
    if instrument.loinc_total:
        concept = {"coding": [_coding(codes.LOINC, instrument.loinc_total, instrument.name)], "text": instrument.name}
    else:  # WSAS: no LOINC code in the sources we hold (outcomes/instruments/wsas.py)
        concept = {
            "coding": [_coding(codes.INSTRUMENT_SYSTEM, instrument.code.value, instrument.name)],
            "text": instrument.name,
        }
    return concept, instrument


def assessment_resources(patient: Patient, assessment: Assessment) -> list[Resource]:
    concept, instrument = _panel(assessment.instrument)
    qr_id = f"{assessment.public_id}-qr"
    items = []
    components = []
    for item, answer in zip(instrument.items, assessment.responses, strict=False):
        link_id = item.loinc or str(item.number)
        items.append({"linkId": link_id, "text": item.text, "answer": [{"valueInteger": int(answer)}]})
        code = (
            {"coding": [_coding(codes.LOINC, item.loinc)], "text": item.text}
            if item.loinc
            else {
                "coding": [_coding(codes.INSTRUMENT_SYSTEM, f"{instrument.code.value}-{item.number}")],
                "text": item.text,
            }
        )
        components.append({"code": code, "valueInteger": int(answer)})
    questionnaire = f"http://loinc.org/q/{instrument.loinc_panel}" if instrument.loinc_panel else None
    response = make(
        QuestionnaireResponse,
        id=qr_id,
        questionnaire=questionnaire,
        status="completed",
        subject=ref("Patient", patient.public_id),
        authored=assessment.administered_on,
        author=ref("Practitioner", assessment.entered_by.public_id),
        item=items,
    )
    observation = make(
        Observation,
        id=str(assessment.public_id),
        status="final",
        category=[{"coding": [_coding(codes.OBS_CATEGORY, "survey", "Survey")]}],
        code=concept,
        subject=ref("Patient", patient.public_id),
        effectiveDateTime=assessment.administered_on,
        performer=[ref("Practitioner", assessment.entered_by.public_id)],
        valueInteger=assessment.total_score,
        interpretation=[{"text": assessment.get_severity_display()}],
        component=components or None,
        derivedFrom=[ref("QuestionnaireResponse", qr_id)],
    )
    return [observation, response]


def lab_resource(patient: Patient, lab: LabResult) -> Observation:
    loinc = codes.LABS.get(lab.test)
    if loinc:
        code_value, display, unit, category = loinc
        concept = {"coding": [_coding(codes.LOINC, code_value, display)], "text": lab.get_test_display()}
    else:  # no LOINC mapping held (HLA-B*15:02 genotype)
        unit, category = "", "laboratory"
        concept = {"coding": [_coding(f"{codes.TANDEM}:lab", lab.test)], "text": lab.get_test_display()}
    value: dict[str, Any] = {}
    if lab.test in ("hla_b1502", "pregnancy_test"):
        positive = lab.value >= 1
        code_value, display = codes.POSITIVE if positive else codes.NEGATIVE
        value["valueCodeableConcept"] = {"coding": [_coding(codes.SNOMED, code_value, display)]}
    else:
        value["valueQuantity"] = _quantity(lab.value, unit)
    low, high = codes.REFERENCE_RANGES.get(lab.test, (None, None))
    ranges = None
    text = "Adult reference range"
    regimen = lab.regimen
    if regimen is not None and regimen.medication.level_test == lab.test:
        low = regimen.target_level_low or regimen.medication.target_level_low
        high = regimen.target_level_high or regimen.medication.target_level_high
        text = "Therapeutic range"
    if low is not None or high is not None:
        reference: dict[str, Any] = {"text": text}
        if low is not None:
            reference["low"] = _quantity(low, unit)
        if high is not None:
            reference["high"] = _quantity(high, unit)
        ranges = [reference]
    return make(
        Observation,
        id=str(lab.public_id),
        status="final",
        category=[{"coding": [_coding(codes.OBS_CATEGORY, category)]}],
        code=concept,
        subject=ref("Patient", patient.public_id),
        effectiveDateTime=lab.taken_on,
        performer=[ref("Practitioner", lab.recorded_by.public_id)],
        note=[{"text": lab.comment}] if lab.comment else None,
        referenceRange=ranges,
        **value,
    )


def encounter_resource(patient: Patient, session: TherapySession) -> Encounter:
    course = session.course
    virtual = session.format in ("telehealth", "phone")
    klass = _coding(codes.ACT_CODE, "VR", "virtual") if virtual else _coding(codes.ACT_CODE, "AMB", "ambulatory")
    return make(
        Encounter,
        id=str(session.public_id),
        status=ENCOUNTER_STATUS[session.attendance],
        **{"class": klass},
        type=[
            {"coding": [_coding(codes.MODALITY_SYSTEM, course.modality.code, course.modality.name)]},
            {"coding": [_coding(codes.ATTENDANCE_SYSTEM, session.attendance, session.get_attendance_display())]},
        ],
        subject=ref("Patient", patient.public_id),
        participant=[{"individual": ref("Practitioner", course.therapist.public_id)}],
        period={"start": session.session_date},
        length={"value": session.duration_minutes, "unit": "min", "system": codes.UCUM, "code": "min"},
    )


# --- a patient's whole record ------------------------------------------------------------


@dataclass
class PatientRecord:
    """The rows one patient's record is made of: a fixed number of queries whatever its size."""

    patient: Patient
    members: list[CareTeamMember]
    plans: list[CarePlan]
    goals: dict[int, list[Goal]]
    regimens: list[Regimen]
    steps: dict[int, list[DoseChange]]
    labs: list[LabResult]
    assessments: list[Assessment]
    courses: list[TherapyCourse]
    sessions: list[TherapySession]
    practitioners: dict[int, User] = field(default_factory=dict)


def record_of(patient: Patient) -> PatientRecord:
    members = list(care_team_of(patient))
    plans = list(CarePlan.objects.filter(patient=patient).order_by("created_at", "id"))
    goals: dict[int, list[Goal]] = defaultdict(list)
    for goal in Goal.objects.filter(care_plan__patient=patient).order_by("created_at", "id"):
        goals[goal.care_plan_id].append(goal)
    regimens = list(
        Regimen.objects.filter(patient=patient)
        .select_related("medication")
        .prefetch_related(
            Prefetch(
                "dose_changes",
                queryset=DoseChange.objects.select_related("changed_by").order_by("effective_on", "changed_at", "id"),
                to_attr="fhir_steps",
            )
        )
        .order_by("start_date", "id")
    )
    steps = {r.pk: list(r.fhir_steps) for r in regimens}  # type: ignore[attr-defined]
    labs = list(
        LabResult.objects.filter(patient=patient)
        .select_related("recorded_by", "regimen__medication")
        .order_by("taken_on", "id")
    )
    assessments = list(assessments_of(patient).order_by("administered_on", "id"))
    courses = list(
        TherapyCourse.objects.filter(patient=patient)
        .select_related("modality", "therapist")
        .order_by("started_on", "id")
    )
    sessions = list(
        TherapySession.objects.filter(course__patient=patient)
        .select_related("course__modality", "course__therapist")
        .order_by("session_date", "id")
    )
    record = PatientRecord(patient, members, plans, goals, regimens, steps, labs, assessments, courses, sessions)
    people: dict[int, User] = {m.user.pk: m.user for m in members}
    for step_list in steps.values():
        for step in step_list:
            people.setdefault(step.changed_by.pk, step.changed_by)
    for lab in labs:
        people.setdefault(lab.recorded_by.pk, lab.recorded_by)
    for assessment in assessments:
        people.setdefault(assessment.entered_by.pk, assessment.entered_by)
    for course in courses:
        people.setdefault(course.therapist.pk, course.therapist)
    record.practitioners = people
    return record


def resources_of(record: PatientRecord) -> list[Resource]:
    patient = record.patient
    out: list[Resource] = [patient_resource(patient)]
    out += [practitioner_resource(user) for user in record.practitioners.values()]
    out += [practitioner_role_resource(member) for member in record.members]
    out.append(care_team_resource(patient, record.members))
    requests: list[MedicationRequest] = []
    current: list[str] = []
    for regimen in record.regimens:
        made = medication_request_resources(patient, regimen, record.steps[regimen.pk])
        requests += made
        if made and regimen.is_current:
            current.append(str(made[-1].id))
    open_courses = [c for c in record.courses if c.status in ("active", "on_hold")]
    for plan in record.plans:
        out += condition_resources(patient, plan)
        plan_goals = record.goals.get(plan.pk, [])
        is_open = plan.status != "completed"
        out.append(
            care_plan_resource(patient, plan, plan_goals, current if is_open else [], open_courses if is_open else [])
        )
        out += [goal_resource(patient, goal) for goal in plan_goals]
    out += requests
    for assessment in record.assessments:
        out += assessment_resources(patient, assessment)
    out += [lab_resource(patient, lab) for lab in record.labs]
    out += [encounter_resource(patient, session) for session in record.sessions]
    return out


def bundle_of(resources: Iterable[Resource], *, base_url: str, bundle_type: str = "searchset") -> Bundle:
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {
            "fullUrl": f"{base_url}{resource.get_resource_type()}/{resource.id}",
            "resource": resource,
        }
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match" if resource.get_resource_type() == "Patient" else "include"}
        entries.append(entry)
    return make(
        Bundle, type=bundle_type, total=len(entries) if bundle_type == "searchset" else None, entry=entries or None
    )


def everything(patient: Patient, *, base_url: str) -> Bundle:
    return bundle_of(resources_of(record_of(patient)), base_url=base_url)


def resource_counts(bundle: Bundle) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for entry in bundle.entry or []:
        if entry.resource is not None:
            counts[entry.resource.get_resource_type()] += 1
    return dict(sorted(counts.items()))
