"""Demo data: most demo patients get a realistic regimen for their diagnosis, a couple of
dose changes, lab results for most of what their protocol asked for (a few left overdue),
a side effect and an adherence check. Everything goes through the services, as a
prescriber would enter it. Idempotent: a patient who already has a regimen is skipped."""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from careplans.models import CareTeamMember, Patient, TeamRole
from careplans.seeding import DemoClinic
from careplans.selectors import open_care_plan_of
from clinic.models import User
from medications import limits, services
from medications.models import DOSES_PER_DAY, LabTest, Medication, Regimen
from medications.monitoring import ItemStatus
from medications.selectors import monitoring_for_regimens

# drug, frequency, starting dose, later doses (reason code), indication
PLANS: dict[str, list[tuple[str, str, str, list[tuple[str, str]], str]]] = {
    "depression": [
        ("Sertraline", "once_daily", "50", [("100", "titration_up"), ("150", "ineffective")], "Depression"),
        ("Escitalopram", "once_daily", "10", [("20", "titration_up"), ("15", "side_effect")], "Depression"),
        ("Venlafaxine XR", "once_daily", "75", [("150", "titration_up"), ("225", "ineffective")], "Depression"),
    ],
    "anxiety": [
        ("Escitalopram", "once_daily", "5", [("10", "titration_up"), ("20", "ineffective")], "Generalized anxiety"),
        ("Sertraline", "once_daily", "25", [("50", "titration_up"), ("100", "titration_up")], "Generalized anxiety"),
    ],
    "bipolar": [
        (
            "Lithium carbonate",
            "twice_daily",
            "300",
            [("450", "titration_up"), ("400", "side_effect")],
            "Bipolar disorder, maintenance",
        ),
        ("Lamotrigine", "once_daily", "25", [("50", "titration_up"), ("100", "titration_up")], "Bipolar depression"),
        ("Quetiapine", "at_bedtime", "50", [("150", "titration_up"), ("300", "titration_up")], "Bipolar depression"),
    ],
    "ptsd": [
        ("Sertraline", "once_daily", "25", [("50", "titration_up"), ("100", "ineffective")], "PTSD"),
    ],
    "psychosis": [
        (
            "Clozapine",
            "twice_daily",
            "12.5",
            [("100", "titration_up"), ("200", "titration_up")],
            "Treatment-resistant schizophrenia",
        ),
        ("Aripiprazole", "once_daily", "10", [("15", "titration_up"), ("10", "side_effect")], "Schizophrenia"),
        ("Olanzapine", "at_bedtime", "5", [("10", "titration_up"), ("15", "ineffective")], "Schizophrenia"),
    ],
}

# Plausible values per test (low, high, decimals): synthetic, not reference ranges.
VALUES: dict[str, tuple[float, float, int]] = {
    LabTest.LITHIUM_LEVEL: (0.45, 0.95, 2),
    LabTest.ANC: (1700, 4200, 0),
    LabTest.FBC: (4.0, 9.5, 1),
    LabTest.PLATELETS: (170, 360, 0),
    LabTest.LFT: (12, 45, 0),
    LabTest.INR: (0.9, 1.15, 2),
    LabTest.EGFR: (68, 112, 0),
    LabTest.CREATININE: (55, 98, 0),
    LabTest.TSH: (0.8, 3.9, 2),
    LabTest.CALCIUM: (2.2, 2.55, 2),
    LabTest.BMI: (21, 33, 1),
    LabTest.WAIST: (78, 104, 0),
    LabTest.BP_SYSTOLIC: (108, 142, 0),
    LabTest.FASTING_GLUCOSE: (82, 118, 0),
    LabTest.FASTING_LIPIDS: (85, 165, 0),
    LabTest.SODIUM: (136, 144, 0),
    LabTest.QTC: (390, 440, 0),
    LabTest.HLA_B1502: (0, 0, 0),  # negative
    LabTest.PREGNANCY_TEST: (0, 0, 0),  # negative
}

REASONS = {
    "titration_up": "Tolerating well, partial response: titrating up",
    "ineffective": "Little improvement at review; increasing",
    "side_effect": "Side effects at the higher dose; reducing",
}

SIDE_EFFECTS = [
    ("Nausea", "mild", "Take with food"),
    ("Insomnia", "mild", "Moved the dose to the morning"),
    ("Tremor", "moderate", "Reviewed the level; dose reduced"),
    ("Weight gain", "moderate", "Dietitian referral"),
    ("Sedation", "mild", "Dose moved to bedtime"),
]
BARRIERS = ["", "", "Forgets the evening dose", "Worried about side effects", "Ran out before the refill"]


def _kind(patient: Patient) -> str:
    plan = open_care_plan_of(patient)
    codes = " ".join(d.get("code", "") for d in (plan.diagnoses if plan else []))
    for prefix, kind in (
        ("F20", "psychosis"),
        ("F31", "bipolar"),
        ("F43", "ptsd"),
        ("F32", "depression"),
        ("F33", "depression"),
        ("F41", "anxiety"),
    ):
        if prefix in codes:
            return kind
    return "depression"


def _value(test: str, rng: random.Random) -> Decimal:
    low, high, places = VALUES[test]
    return round(Decimal(str(rng.uniform(low, high))), places)


def _labs(regimen: Regimen, prescriber: User, today: date, rng: random.Random) -> None:
    """Enter most results the protocol asked for, on or just after their due date; now and then
    one is missed and stays overdue, as in a real clinic."""
    skipped: set[tuple[str, date]] = set()
    for _ in range(80):
        items = monitoring_for_regimens([regimen], today=today).get(regimen.pk, [])
        todo = [i for i in items if i.status == ItemStatus.OVERDUE and (i.test, i.due_date) not in skipped]
        if not todo:
            return
        for item in todo:
            if rng.random() < 0.08:
                skipped.add((item.test, item.due_date))
                continue
            taken = min(item.due_date + timedelta(days=rng.randint(0, 2)), today)
            services.lab_result_record(
                patient=regimen.patient,
                actor=prescriber,
                test=item.test,
                value=_value(item.test, rng),
                taken_on=taken,
                regimen=regimen,
            )


def _capped(patient: Patient, medication: Medication, dose: Decimal, frequency: str, on: date) -> Decimal:
    """A demo prescriber keeps to the patient's own limit (e.g. escitalopram 10 mg/day from 65)."""
    limit = limits.patient_limit(medication=medication, facts=limits.patient_facts(patient=patient, on=on))
    if limit is None or limit.max_daily_dose == 0:
        return dose
    return min(dose, limit.max_daily_dose / DOSES_PER_DAY[frequency])


@transaction.atomic
def _seed_patient(patient: Patient, prescriber: User, today: date, rng: random.Random) -> None:
    drug, frequency, dose, changes, indication = rng.choice(PLANS[_kind(patient)])
    medication = Medication.objects.get(name=drug)
    start = today - timedelta(days=rng.randint(60, 320))
    if drug == "Clozapine":  # no clozapine without a recent baseline ANC (clozapine.py)
        services.lab_result_record(
            patient=patient, actor=prescriber, test=LabTest.ANC, value=_value(LabTest.ANC, rng), taken_on=start
        )
    regimen = services.regimen_start(
        patient=patient,
        medication=medication,
        dose=_capped(patient, medication, Decimal(dose), frequency, start),
        frequency=frequency,
        start_date=start,
        actor=prescriber,
        indication=indication,
    )
    when = start
    for new_dose, code in changes[: rng.choice([1, 2, 2])]:
        when = min(when + timedelta(days=rng.randint(14, 35)), today)
        capped = _capped(patient, medication, Decimal(new_dose), frequency, when)
        regimen.refresh_from_db()
        if capped == regimen.dose:
            continue
        services.dose_change_record(
            regimen=regimen,
            dose=capped,
            reason=REASONS[code],
            reason_code=code,
            actor=prescriber,
            effective_on=when,
        )
    regimen.refresh_from_db()
    if medication.monitoring_protocol_id:
        _labs(regimen, prescriber, today, rng)
    if rng.random() < 0.5:
        effect, severity, action = rng.choice(SIDE_EFFECTS)
        services.side_effect_record(
            patient=patient,
            actor=prescriber,
            regimen=regimen,
            effect=effect,
            severity=severity,
            onset=start + timedelta(days=rng.randint(3, 20)),
            action_taken=action,
        )
    services.adherence_check_record(
        patient=patient,
        actor=prescriber,
        regimen=regimen,
        checked_on=today - timedelta(days=rng.randint(0, 30)),
        method=rng.choice(["self_report", "pill_count", "pharmacy_refill"]),
        percent=rng.choice([70, 80, 90, 95, 100]),
        barriers=rng.choice(BARRIERS),
    )


def seed_medications(clinic: DemoClinic) -> None:
    today = timezone.localdate()
    prescribers = dict(
        CareTeamMember.objects.filter(
            patient__in=clinic.patients,
            role=TeamRole.PRESCRIBER,
            ended_at__isnull=True,
        ).values_list("patient_id", "user_id")
    )
    users = {u.pk: u for u in clinic.staff.values()}
    for patient in clinic.patients:
        if patient.pk not in prescribers or Regimen.all_records.filter(patient=patient).exists():
            continue
        if clinic.rng.random() < 0.15:  # most, not all, patients take medication
            continue
        prescriber = users.get(prescribers[patient.pk]) or User.objects.get(pk=prescribers[patient.pk])
        _seed_patient(patient, prescriber, today, clinic.rng)
