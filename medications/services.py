"""Every write to regimens, doses, side effects, adherence checks and lab results.

Each function runs in one transaction, validates, and writes its audit event (and any
monitoring reminders) in that same transaction (STYLE.md rule 3, SECURITY.md AL-3, CE-1).
Dose changes lock the regimen row and check the version the caller read (CC-2): of
several prescribers adjusting the same regimen at once, exactly one succeeds.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from careplans.models import Patient, TeamRole
from careplans.selectors import active_team_members
from clinic.access import Action, require
from clinic.audit import audit_record, diff, snapshot
from clinic.concurrency import StaleVersionError
from clinic.entered_in_error import entered_in_error_mark
from clinic.models import AuditAction, User
from medications import clozapine, critical, limits, reminders
from medications.interactions import (
    CYP1A2_SUBSTRATE_KINDS,
    InteractionWarning,
    interaction_warnings,
    property_holders,
    smoking_warning,
)
from medications.models import (
    CURRENT_REGIMEN_STATUSES,
    DOSES_PER_DAY,
    INJECTION_INTERVALS,
    LAB_UNITS,
    QUALITATIVE_TESTS,
    AdherenceCheck,
    CriticalResult,
    CriticalResultStatus,
    DoseChange,
    DoseReason,
    ExceptionKind,
    Frequency,
    HepaticImpairment,
    Injection,
    InteractionAcknowledgement,
    LabResult,
    LabTest,
    Medication,
    MonitoringException,
    PatientMedicationProfile,
    PregnancyPotential,
    PrescribingProfile,
    Regimen,
    RegimenStatus,
    Route,
    SideEffect,
    SmokingStatus,
)
from reminders.models import ReminderKind
from reminders.outbox import ReminderDraft, reminders_write

REGIMEN_FIELDS = (
    "medication",
    "dose",
    "unit",
    "frequency",
    "route",
    "start_date",
    "indication",
    "target_dose",
    "target_level_low",
    "target_level_high",
    "status",
    "status_reason",
    "stopped_on",
)
DOSE_CHANGE_FIELDS = ("previous_dose", "dose", "reason", "reason_code", "override_reason", "effective_on")

# STYLE.md rule 7: a regimen's status moves only along these edges.
REGIMEN_TRANSITIONS: dict[str, frozenset[str]] = {
    RegimenStatus.ACTIVE: frozenset({RegimenStatus.PAUSED, RegimenStatus.STOPPED}),
    RegimenStatus.PAUSED: frozenset({RegimenStatus.ACTIVE, RegimenStatus.STOPPED}),
    RegimenStatus.STOPPED: frozenset(),
}


INTERRUPTION_RESTART_DAYS = 30

PRESCRIBERS_ONLY = "Only prescribers start regimens and change doses."


class AcknowledgementRequired(ValidationError):
    """A contraindicated or major warning was not acknowledged with a reason (API: 400 with the
    warnings; the page shows them with a checkbox each)."""

    def __init__(
        self,
        warnings: list[InteractionWarning],
        errors: dict[str, str],
        others: Sequence[InteractionWarning] = (),
    ) -> None:
        super().__init__(errors)
        self.warnings = warnings
        self.others = list(others)  # moderate ones: shown, never to acknowledge


def acknowledgements_check(
    warnings: Sequence[InteractionWarning], acknowledged: Sequence[str], reason: str
) -> list[InteractionWarning]:
    """The blocking warnings, once each of their codes is acknowledged and a reason given."""
    blocking = [w for w in warnings if w.is_blocking]
    if not blocking:
        return []
    missing = sorted({w.code for w in blocking} - set(acknowledged))
    errors = {}
    if missing:
        errors["acknowledged_warnings"] = (
            "Acknowledge each contraindicated or major warning to go ahead: " + ", ".join(missing) + "."
        )
    if not reason.strip():
        errors["acknowledgement_reason"] = "Say why you go ahead despite the warnings."
    if errors:
        raise AcknowledgementRequired(blocking, errors, [w for w in warnings if not w.is_blocking])
    return blocking


def _acknowledgements_write(
    *,
    regimen: Regimen,
    blocking: Sequence[InteractionWarning],
    reason: str,
    actor: User,
    dose_change: DoseChange | None = None,
) -> None:
    by_code: dict[str, list[InteractionWarning]] = {}
    for warning in blocking:
        by_code.setdefault(warning.code, []).append(warning)
    for code, found in by_code.items():
        ack = InteractionAcknowledgement(
            regimen=regimen,
            dose_change=dose_change,
            code=code,
            severity=min(found, key=lambda w: 0 if w.severity == "contraindicated" else 1).severity,
            drugs="; ".join(dict.fromkeys(w.drugs for w in found))[:200],
            reason=reason.strip(),
            acknowledged_by=actor,
        )
        ack.full_clean()
        ack.save()
        # The reason is free text: the audit records that one was given, never its words.
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=ack,
            patient_id=regimen.patient.public_id,
            changes={"code": [None, code], "severity": [None, ack.severity], "reason_given": [None, True]},
        )


def _as_decimal(value: Any, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Enter a number, e.g. 50 or 0.5."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number, e.g. 50 or 0.5."})
    return number


def _frequency_error(medication: Medication, frequency: str, max_doses_per_day: int | None) -> str | None:
    if medication.long_acting_injectable:
        allowed = medication.allowed_injection_frequencies
        if frequency not in allowed:
            labels = ", ".join(Frequency(f).label.lower() for f in allowed)
            return f"{medication.name} is injected {labels}."
        return None
    if frequency in INJECTION_INTERVALS:
        return f"{medication.name} is not a long-acting injectable: choose a daily frequency or as needed."
    if frequency == Frequency.AS_NEEDED:
        return None if max_doses_per_day else "Give the maximum number of doses a day for an as-needed medication."
    if frequency not in DOSES_PER_DAY:
        return "Choose how often the dose is taken."
    return None


def _over_limit(medication: Medication, number: Decimal, frequency: str, max_doses_per_day: int | None) -> str | None:
    """Why the dose is above the usual maximum (per injection for a depot, else per day)."""
    unit = medication.unit
    if medication.long_acting_injectable:
        limit = medication.max_dose_per_injection
        if limit is not None and number > limit:
            return (
                f"{_fmt(number)} {unit} is above the largest single injection of {_fmt(limit)} {unit} "
                f"for {medication.name}. Give an override reason to prescribe it."
            )
        return None
    per_day = max_doses_per_day if frequency == Frequency.AS_NEEDED else DOSES_PER_DAY.get(frequency)
    if per_day is None:
        return None
    daily = number * per_day
    if daily > medication.max_daily_dose:
        return (
            f"{_fmt(daily)} {unit} a day is above the usual maximum of "
            f"{_fmt(medication.max_daily_dose)} {unit} a day for {medication.name}. "
            "Give an override reason to prescribe it."
        )
    return None


def dose_validate(
    *,
    medication: Medication,
    dose: Any,
    frequency: str,
    override_reason: str = "",
    unit: str | None = None,
    field: str = "dose",
    patient: Patient | None = None,
    indication: str = "",
    on: date | None = None,
    max_doses_per_day: int | None = None,
) -> Decimal:
    """The dose rules (DESIGN.md, SECURITY.md IV-2): a positive number, in the medication's
    unit, and a daily dose (dose x doses per day; PRN: x its maximum doses a day) at most the
    catalog maximum and the patient's own limit (limits.py: age, liver, kidneys, weight,
    indication), or for a long-acting injectable a single injection at most the label's
    largest, unless an override reason is given. Returns the dose or raises per-field errors."""
    errors: dict[str, str] = {}
    if unit not in (None, "") and unit != medication.unit:
        errors["unit"] = f"{medication.name} is dosed in {medication.unit}, not {unit}."
    frequency_error = _frequency_error(medication, frequency, max_doses_per_day)
    if frequency_error:
        errors["max_doses_per_day" if frequency == Frequency.AS_NEEDED else "frequency"] = frequency_error
    number = _as_decimal(dose, field)
    if number <= 0:
        errors[field] = "Enter a dose above zero."
    elif number.as_tuple().exponent < -3:  # type: ignore[operator]
        errors[field] = "Use at most 3 decimal places."
    elif not frequency_error and not override_reason.strip():
        over = _patient_limit_error_for(medication, number, frequency, max_doses_per_day, patient, indication, on)
        over = over or _over_limit(medication, number, frequency, max_doses_per_day)
        if over:
            errors[field] = over
    if errors:
        raise ValidationError(errors)
    return number


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _patient_limit_error_for(
    medication: Medication,
    number: Decimal,
    frequency: str,
    max_doses_per_day: int | None,
    patient: Patient | None,
    indication: str,
    on: date | None,
) -> str | None:
    """The patient's own daily limit (limits.py); a depot's per-injection maximum is the label's."""
    if medication.long_acting_injectable:
        return None
    per_day = max_doses_per_day if frequency == Frequency.AS_NEEDED else DOSES_PER_DAY.get(frequency)
    if per_day is None:
        return None
    return _patient_limit_error(medication, number * per_day, patient, indication, on)


def _patient_limit_error(
    medication: Medication, daily: Decimal, patient: Patient | None, indication: str, on: date | None
) -> str | None:
    if patient is None:
        return None
    facts = limits.patient_facts(patient=patient, on=on or timezone.localdate())
    limit = limits.patient_limit(medication=medication, facts=facts, indication=indication)
    return limits.limit_error(medication=medication, daily=daily, limit=limit) if limit else None


def _not_future(day: date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: "This date is in the future."})


# --- Regimens ------------------------------------------------------------------------


@transaction.atomic
def regimen_start(
    *,
    patient: Patient,
    medication: Medication,
    dose: Any,
    frequency: str,
    start_date: date,
    actor: User,
    unit: str | None = None,
    route: str = Route.ORAL,
    indication: str = "",
    target_dose: Any = None,
    target_level_low: Decimal | None = None,
    target_level_high: Decimal | None = None,
    override_reason: str = "",
    max_doses_per_day: int | None = None,
    acknowledged_warnings: Sequence[str] = (),
    acknowledgement_reason: str = "",
) -> Regimen:
    """Start a regimen; its first DoseChange (previous dose empty) records the starting dose.
    A contraindicated or major warning (limits.start_warnings) must be acknowledged by code with
    a reason (AcknowledgementRequired otherwise); the acknowledgement is recorded and audited.
    Clozapine needs a recent baseline ANC; a restart after a gap asks for re-titration."""
    require(actor, Action.PRESCRIBE, PRESCRIBERS_ONLY)
    # One start per patient at a time: two prescribers starting an MAOI and an SSRI at the same
    # moment would otherwise each pass the interaction check without seeing the other's drug.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    if not medication.is_active:
        raise ValidationError({"medication": "This medication is no longer offered in the catalog."})
    if frequency != Frequency.AS_NEEDED:
        max_doses_per_day = None
    number = dose_validate(
        medication=medication,
        dose=dose,
        frequency=frequency,
        override_reason=override_reason,
        unit=unit,
        patient=patient,
        indication=indication,
        on=start_date,
        max_doses_per_day=max_doses_per_day,
    )
    if target_dose not in (None, ""):
        target_dose = dose_validate(
            medication=medication,
            dose=target_dose,
            frequency=frequency,
            override_reason=override_reason,
            field="target_dose",
            patient=patient,
            indication=indication,
            on=start_date,
            max_doses_per_day=max_doses_per_day,
        )
    if medication.long_acting_injectable:
        route = Route.INTRAMUSCULAR  # a depot is only ever given intramuscularly
    _not_future(start_date, "start_date")
    if Regimen.objects.filter(patient=patient, medication=medication, status__in=CURRENT_REGIMEN_STATUSES).exists():
        raise ValidationError(
            {"medication": f"{medication.name} is already on this patient's current list: adjust that regimen instead."}
        )
    blocking = acknowledgements_check(
        limits.start_warnings(patient=patient, medication=medication, on=start_date),
        acknowledged_warnings,
        acknowledgement_reason,
    )
    gap_days = _clozapine_start_check(patient=patient, medication=medication, start_date=start_date)
    if medication.level_test and target_level_low is None and target_level_high is None:
        target_level_low, target_level_high = medication.target_level_low, medication.target_level_high
    regimen = Regimen(
        patient=patient,
        medication=medication,
        dose=number,
        unit=medication.unit,
        frequency=frequency,
        route=route,
        start_date=start_date,
        indication=indication.strip(),
        target_dose=target_dose or None,
        target_level_low=target_level_low,
        target_level_high=target_level_high,
        max_doses_per_day=max_doses_per_day,
        retitration_gap_days=gap_days,
        prescriber=actor,
        status_changed_by=actor,
    )
    regimen.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            regimen.save()
    except IntegrityError:
        raise ValidationError({"medication": f"{medication.name} is already on this patient's current list."}) from None
    start = DoseChange(
        regimen=regimen,
        previous_dose=None,
        dose=number,
        reason="Regimen started",
        reason_code=DoseReason.START,
        override_reason=override_reason.strip(),
        effective_on=start_date,
        changed_by=actor,
    )
    start.full_clean()
    start.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=regimen,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(regimen, REGIMEN_FIELDS)),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=start,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(start, DOSE_CHANGE_FIELDS)),
    )
    _acknowledgements_write(
        regimen=regimen, blocking=blocking, reason=acknowledgement_reason, actor=actor, dose_change=start
    )
    # The patient's other regimens too: a drug that raises lithium levels brings the next
    # lithium level forward (lithium.py).
    reminders.monitoring_reminders_write(regimens=_active_regimens(patient), today=timezone.localdate())
    return regimen


def _active_regimens(patient: Patient) -> list[Regimen]:
    return list(Regimen.objects.filter(patient=patient, status=RegimenStatus.ACTIVE).select_related("medication"))


def _clozapine_start_check(*, patient: Patient, medication: Medication, start_date: date) -> int | None:
    """Refuse clozapine without a baseline ANC in range; return the days since the patient's
    last clozapine regimen stopped when that gap asks for re-titration (clozapine.py)."""
    if medication.name != clozapine.CLOZAPINE:
        return None
    ancs = LabResult.objects.filter(patient=patient, test=LabTest.ANC, taken_on__lte=start_date).values_list(
        "taken_on", "value"
    )
    profile = PatientMedicationProfile.objects.filter(patient=patient).first()
    error = clozapine.baseline_anc_error(
        ancs=list(ancs), start_date=start_date, ben=bool(profile and profile.benign_ethnic_neutropenia)
    )
    if error:
        raise ValidationError({"medication": error})
    last_stop = (
        Regimen.objects.filter(patient=patient, medication=medication, status=RegimenStatus.STOPPED)
        .order_by("-stopped_on")
        .values_list("stopped_on", flat=True)
        .first()
    )
    if last_stop is None:
        return None
    gap = (start_date - last_stop).days
    return gap if gap >= clozapine.RETITRATION_GAP_DAYS else None


def _locked(regimen: Regimen, version: int | None) -> Regimen:
    """The regimen row, locked until the transaction ends; StaleVersionError (409) if the
    caller read an older version. Concurrent writers queue on the lock, then see the new version."""
    current = Regimen.all_records.select_for_update().select_related("medication", "patient").get(pk=regimen.pk)
    if version is not None and current.version != version:
        raise StaleVersionError(current=current)
    if current.entered_in_error_at is not None:
        raise ValidationError({"regimen": "This regimen was entered in error."})
    return current


@transaction.atomic
def dose_change_record(
    *,
    regimen: Regimen,
    dose: Any,
    reason: str,
    actor: User,
    version: int | None = None,
    reason_code: str = "",
    override_reason: str = "",
    unit: str | None = None,
    effective_on: date | None = None,
    acknowledged_warnings: Sequence[str] = (),
    acknowledgement_reason: str = "",
) -> DoseChange:
    """Append a dose change. The new current dose is this one; nothing earlier is rewritten.
    An increase re-checks the interactions: a contraindicated or major one must be
    acknowledged with a reason, as at the start (a reduction is what most advice asks for)."""
    require(actor, Action.PRESCRIBE, PRESCRIBERS_ONLY)
    current = _locked(regimen, version)
    if current.status != RegimenStatus.ACTIVE:
        raise ValidationError({"dose": "Only an active regimen's dose can change: resume it first."})
    number = dose_validate(
        medication=current.medication,
        dose=dose,
        frequency=current.frequency,
        override_reason=override_reason,
        unit=unit,
        patient=current.patient,
        indication=current.indication,
        on=effective_on,
        max_doses_per_day=current.max_doses_per_day,
    )
    errors: dict[str, str] = {}
    if number == current.dose:
        errors["dose"] = f"{_fmt(number)} {current.unit} is already the current dose."
    if not reason.strip():
        errors["reason"] = "Say why the dose changes."
    if reason_code == DoseReason.START or (reason_code and reason_code not in DoseReason.values):
        errors["reason_code"] = "Choose a listed reason."
    effective_on = effective_on or timezone.localdate()
    latest = DoseChange.objects.filter(regimen=current).order_by("-effective_on", "-changed_at", "-id").first()
    if effective_on > timezone.localdate():
        errors["effective_on"] = "This date is in the future."
    elif latest is not None and effective_on < latest.effective_on:
        errors["effective_on"] = (
            f"The last change took effect on {latest.effective_on:%Y-%m-%d}; a new one cannot take effect before it."
        )
    if errors:
        raise ValidationError(errors)
    blocking: list[InteractionWarning] = []
    if number > current.dose:
        blocking = acknowledgements_check(
            interaction_warnings(patient=current.patient, medication=current.medication, exclude_regimen=current),
            acknowledged_warnings,
            acknowledgement_reason,
        )
    change = DoseChange(
        regimen=current,
        previous_dose=current.dose,
        dose=number,
        reason=reason.strip(),
        reason_code=reason_code,
        override_reason=override_reason.strip(),
        effective_on=effective_on,
        changed_by=actor,
    )
    change.full_clean()
    change.save()
    current.dose = number
    current.version += 1
    current.retitration_gap_days = None  # the prescriber is titrating again
    current.save(update_fields=["dose", "version", "retitration_gap_days", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=change,
        patient_id=current.patient.public_id,
        changes=diff({}, snapshot(change, DOSE_CHANGE_FIELDS)),
    )
    _acknowledgements_write(
        regimen=current, blocking=blocking, reason=acknowledgement_reason, actor=actor, dose_change=change
    )
    # The lithium rule: a level one week after every dose change (monitoring.py).
    reminders.monitoring_reminders_write(regimens=[current], today=timezone.localdate())
    return change


@transaction.atomic
def dose_change_enter_in_error(
    *, dose_change: DoseChange, actor: User, reason: str, version: int | None = None
) -> DoseChange:
    """Mark the latest dose change as entered in error; the dose before it is current again.
    Only the latest may be marked, so the history's chain previous -> new stays unbroken."""
    require(actor, Action.PRESCRIBE, PRESCRIBERS_ONLY)
    current = _locked(dose_change.regimen, version)
    latest = DoseChange.objects.filter(regimen=current).order_by("-effective_on", "-changed_at", "-id").first()
    if dose_change.is_start:
        raise ValidationError({"dose_change": "The starting dose cannot be withdrawn; stop the regimen instead."})
    if latest is None or latest.pk != dose_change.pk:
        raise ValidationError({"dose_change": "Only the latest dose change can be marked as entered in error."})
    entered_in_error_mark(record=dose_change, actor=actor, reason=reason, patient_id=current.patient.public_id)
    current.dose = dose_change.previous_dose  # type: ignore[assignment]
    current.version += 1
    current.save(update_fields=["dose", "version", "updated_at"])
    return dose_change


@transaction.atomic
def regimen_status_change(
    *, regimen: Regimen, status: str, actor: User, reason: str = "", version: int | None = None
) -> Regimen:
    """Pause, resume or stop a regimen. Pausing and stopping need a reason."""
    require(actor, Action.PRESCRIBE, PRESCRIBERS_ONLY)
    current = _locked(regimen, version)
    if status not in REGIMEN_TRANSITIONS.get(current.status, frozenset()):
        raise ValidationError({"status": f"A {current.get_status_display().lower()} regimen cannot become {status}."})
    if status in (RegimenStatus.PAUSED, RegimenStatus.STOPPED) and not reason.strip():
        raise ValidationError({"reason": "Say why."})
    before = snapshot(current, REGIMEN_FIELDS)
    previous_change = current.status_changed_at
    current.status = status
    current.status_reason = reason.strip()
    current.status_changed_at = timezone.now()
    current.status_changed_by = actor
    if status == RegimenStatus.STOPPED:
        current.stopped_on = max(timezone.localdate(), current.start_date)
    # Clozapine PI (CLINICAL.md b8): an interruption over 30 days is monitored as a new patient.
    interrupted = (timezone.localdate() - timezone.localdate(previous_change)).days
    if status == RegimenStatus.ACTIVE and interrupted > INTERRUPTION_RESTART_DAYS:
        current.monitoring_restart_on = timezone.localdate()
    # Clozaril label 2.5: after 2 days or more without clozapine, re-titrate from 12.5 mg.
    if status == RegimenStatus.ACTIVE and current.medication.name == clozapine.CLOZAPINE:
        current.retitration_gap_days = interrupted if interrupted >= clozapine.RETITRATION_GAP_DAYS else None
    current.version += 1
    current.full_clean(validate_constraints=False)
    current.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=current,
        patient_id=current.patient.public_id,
        changes=diff(before, snapshot(current, REGIMEN_FIELDS)),
    )
    return current


# --- Prescribing profile ---------------------------------------------------------------------

PROFILE_FIELDS = ("smoking_status", "hepatic_impairment", "pregnancy_potential")


@transaction.atomic
def prescribing_profile_update(
    *,
    patient: Patient,
    actor: User,
    smoking_status: str | None = None,
    hepatic_impairment: str | None = None,
    pregnancy_potential: str | None = None,
) -> tuple[PrescribingProfile, list[InteractionWarning]]:
    """Record smoking status, hepatic impairment or pregnancy potential (any clinician on the
    team records them, as they record lab results). A change of smoking status warns for the
    patient's current CYP1A2 substrates: stopping smoking raises clozapine and olanzapine levels."""
    require(actor, Action.RECORD_LAB_RESULT)
    profile = PrescribingProfile.objects.select_for_update().filter(patient=patient).first()
    profile = profile or PrescribingProfile(patient=patient)
    before = snapshot(profile, PROFILE_FIELDS) if profile.pk else {}
    was_smoking = profile.smoking_status
    for name, value, choices in (
        ("smoking_status", smoking_status, SmokingStatus),
        ("hepatic_impairment", hepatic_impairment, HepaticImpairment),
        ("pregnancy_potential", pregnancy_potential, PregnancyPotential),
    ):
        if value is None:
            continue
        if value not in choices.values:
            raise ValidationError({name: "Choose a listed value."})
        setattr(profile, name, value)
    profile.updated_by = actor
    profile.full_clean(validate_constraints=False)
    created = profile.pk is None
    profile.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        obj=profile,
        patient_id=patient.public_id,
        changes=diff(before, snapshot(profile, PROFILE_FIELDS)),
    )
    return profile, _smoking_change_warnings(patient, was_smoking, profile.smoking_status)


def _smoking_change_warnings(patient: Patient, before: str, after: str) -> list[InteractionWarning]:
    stopped = before == SmokingStatus.SMOKER and after != SmokingStatus.SMOKER
    started = before != SmokingStatus.SMOKER and after == SmokingStatus.SMOKER
    if not (stopped or started):
        return []
    current = list(
        Regimen.objects.filter(patient=patient, status__in=CURRENT_REGIMEN_STATUSES).select_related("medication")
    )
    substrates = set()
    for kind in CYP1A2_SUBSTRATE_KINDS:
        substrates |= property_holders(kind, [r.medication_id for r in current])
    return [
        smoking_warning(regimen.medication.name, started=started)
        for regimen in current
        if regimen.medication_id in substrates
    ]


# --- Side effects, adherence, lab results (any care-team member) ---------------------------


def _regimen_of_patient(regimen: Regimen | None, patient: Patient) -> None:
    # AC-3: a record may only point at the same patient's regimen.
    if regimen is not None and regimen.patient_id != patient.pk:
        raise ValidationError({"regimen": "Choose one of this patient's regimens."})


@transaction.atomic
def side_effect_record(
    *,
    patient: Patient,
    actor: User,
    effect: str,
    severity: str,
    onset: date,
    action_taken: str = "",
    regimen: Regimen | None = None,
) -> SideEffect:
    require(actor, Action.RECORD_SIDE_EFFECT)
    _regimen_of_patient(regimen, patient)
    _not_future(onset, "onset")
    record = SideEffect(
        patient=patient,
        regimen=regimen,
        effect=effect.strip(),
        severity=severity,
        onset=onset,
        action_taken=action_taken.strip(),
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(record, ("regimen", "effect", "severity", "onset", "action_taken"))),
    )
    return record


@transaction.atomic
def adherence_check_record(
    *,
    patient: Patient,
    actor: User,
    checked_on: date,
    method: str,
    percent: int,
    barriers: str = "",
    regimen: Regimen | None = None,
) -> AdherenceCheck:
    require(actor, Action.RECORD_ADHERENCE)
    _regimen_of_patient(regimen, patient)
    _not_future(checked_on, "checked_on")
    if not 0 <= int(percent) <= 100:
        raise ValidationError({"percent": "Enter a percentage from 0 to 100."})
    record = AdherenceCheck(
        patient=patient,
        regimen=regimen,
        checked_on=checked_on,
        method=method,
        percent=percent,
        barriers=barriers.strip(),
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(record, ("regimen", "checked_on", "method", "percent", "barriers"))),
    )
    return record


@transaction.atomic
def lab_result_record(
    *,
    patient: Patient,
    actor: User,
    test: str,
    value: Any,
    taken_on: date,
    unit: str | None = None,
    regimen: Regimen | None = None,
    comment: str = "",
) -> LabResult:
    require(actor, Action.RECORD_LAB_RESULT)
    _regimen_of_patient(regimen, patient)
    if test not in LabTest.values:
        raise ValidationError({"test": "Choose a listed test."})
    expected = LAB_UNITS[test]
    if unit not in (None, "") and unit != expected:
        raise ValidationError({"unit": f"{LabTest(test).label} is recorded in {expected}."})
    number = _as_decimal(value, "value")
    if number < 0:
        raise ValidationError({"value": "A result cannot be negative."})
    if test in QUALITATIVE_TESTS and number not in (0, 1):
        raise ValidationError({"value": "Enter 1 for positive or 0 for negative."})
    _not_future(taken_on, "taken_on")
    record = LabResult(
        patient=patient,
        regimen=regimen,
        test=test,
        value=number,
        unit=expected,
        taken_on=taken_on,
        comment=comment.strip(),
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(record, ("regimen", "test", "value", "unit", "taken_on"))),
    )
    finding = critical.critical_finding(test=test, value=number, context=_critical_context(record))
    if finding is not None:
        critical_result_raise(lab_result=record, finding=finding, actor=actor)
    return record


@transaction.atomic
def record_enter_in_error(
    *, record: SideEffect | AdherenceCheck | LabResult, actor: User, reason: str
) -> SideEffect | AdherenceCheck | LabResult:
    """Withdraw a side effect, adherence check or lab result entered by mistake (kept, hidden)."""
    require(actor, RECORD_ACTIONS[type(record)])
    return entered_in_error_mark(record=record, actor=actor, reason=reason, patient_id=record.patient.public_id)


# Who may record (and so withdraw) each kind of record (clinic/access.py).
RECORD_ACTIONS: dict[type, Action] = {
    SideEffect: Action.RECORD_SIDE_EFFECT,
    AdherenceCheck: Action.RECORD_ADHERENCE,
    LabResult: Action.RECORD_LAB_RESULT,
}


# --- Critical results (issue 11 item 5; reuses the PHQ-9 item-9 safety-alert pattern) ------

CRITICAL_RESULT_ROLES = (TeamRole.PRESCRIBER, TeamRole.CARE_MANAGER)


def _critical_context(record: LabResult) -> critical.Context:
    """BEN from the profile; for a QTc the previous ECG and the patient's QT drugs."""
    profile = PatientMedicationProfile.objects.filter(patient_id=record.patient_id).first()
    context = critical.Context(benign_ethnic_neutropenia=bool(profile and profile.benign_ethnic_neutropenia))
    if record.test != LabTest.QTC:
        return context
    previous = (
        LabResult.objects.filter(patient_id=record.patient_id, test=LabTest.QTC, taken_on__lte=record.taken_on)
        .exclude(pk=record.pk)
        .order_by("-taken_on", "-id")
        .values_list("value", flat=True)
        .first()
    )
    names = Regimen.objects.filter(
        patient_id=record.patient_id,
        status__in=CURRENT_REGIMEN_STATUSES,
        medication__name__in=critical.QT_DRUGS,
    ).values_list("medication__name", flat=True)
    return critical.Context(
        benign_ethnic_neutropenia=context.benign_ethnic_neutropenia,
        previous_qtc=previous,
        qt_drugs=tuple(sorted(names)),
    )


def _critical_recipients(patient_id: int) -> list[int]:
    """The team's prescribers and care manager; if it has none, everyone on it."""
    team = active_team_members().filter(patient_id=patient_id)
    recipients = sorted(set(team.filter(role__in=CRITICAL_RESULT_ROLES).values_list("user_id", flat=True)))
    return recipients or sorted(set(team.values_list("user_id", flat=True)))


@transaction.atomic
def critical_result_raise(*, lab_result: LabResult, finding: critical.CriticalFinding, actor: User) -> CriticalResult:
    """Open the critical result and write urgent outbox rows; e-mail starts when this commits
    (outbox urgent dispatch; the e-mail carries a count and a link, never the result)."""
    require(actor, Action.RECORD_LAB_RESULT)
    alert = CriticalResult(
        patient_id=lab_result.patient_id,
        lab_result=lab_result,
        code=finding.code,
        severity=finding.severity,
        message=finding.message,
        source=finding.source,
    )
    alert.full_clean()
    alert.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=alert,
        patient_id=lab_result.patient.public_id,
        changes={"code": [None, alert.code], "lab_result": [None, str(lab_result.public_id)]},
    )
    reminders_write(
        ReminderDraft(
            recipient_id=user_id,
            patient_id=lab_result.patient_id,
            kind=ReminderKind.CRITICAL_RESULT,
            subject_type=CriticalResult._meta.label_lower,
            subject_id=str(alert.public_id),
            due_date=timezone.localdate(),
            detail=(
                f"Critical result: {LabTest(lab_result.test).label} {_fmt(lab_result.value)} {lab_result.unit} "
                f"({finding.message}). A prescriber records the action taken."
            ),
        )
        for user_id in _critical_recipients(lab_result.patient_id)
    )
    return alert


@transaction.atomic
def critical_result_action_record(*, critical_result: CriticalResult, actor: User, action_taken: str) -> CriticalResult:
    """A prescriber records what was done; the chart banner goes."""
    require(actor, Action.PRESCRIBE)
    alert = CriticalResult.objects.select_for_update().get(pk=critical_result.pk)
    if alert.status != CriticalResultStatus.OPEN:
        raise ValidationError({"action_taken": "The action for this result is already recorded."})
    if not action_taken.strip():
        raise ValidationError({"action_taken": "Say what was done (e.g. lithium withheld, repeat level tomorrow)."})
    alert.status = CriticalResultStatus.ACTIONED
    alert.action_taken = action_taken.strip()
    alert.actioned_by = actor
    alert.actioned_at = timezone.now()
    alert.full_clean()
    alert.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=alert,
        patient_id=alert.patient.public_id,
        changes={"status": [CriticalResultStatus.OPEN, CriticalResultStatus.ACTIONED]},
    )
    return alert


# --- Monitoring exceptions (done elsewhere / waived) ------------------------------------------


def _pending_item(regimen: Regimen, test: str) -> Any:
    from medications.selectors import monitoring_for_regimens

    items = monitoring_for_regimens([regimen], today=timezone.localdate()).get(regimen.pk, [])
    if not any(item.test == test for item in items):
        return None, False
    pending = [item for item in items if item.test == test and item.status in ("due", "overdue")]
    return (pending[0] if pending else None), True


@transaction.atomic
def monitoring_exception_record(
    *,
    patient: Patient,
    regimen: Regimen,
    test: str,
    kind: str,
    actor: User,
    reason: str,
    done_on: date | None = None,
) -> MonitoringException:
    """Record a test as done elsewhere (date, where) or waived (why, by whom) so it stops being
    overdue. A waiver answers the item pending now; a test done elsewhere counts like a result."""
    require(actor, Action.PRESCRIBE)
    _regimen_of_patient(regimen, patient)
    errors: dict[str, str] = {}
    if kind not in ExceptionKind.values:
        errors["kind"] = "Choose done_elsewhere or waived."
    if not reason.strip():
        errors["reason"] = "Say where it was done." if kind == ExceptionKind.DONE_ELSEWHERE else "Say why it is waived."
    if kind == ExceptionKind.DONE_ELSEWHERE and done_on is None:
        errors["done_on"] = "Give the date it was done."
    elif done_on is not None and done_on > timezone.localdate():
        errors["done_on"] = "This date is in the future."
    pending, scheduled = _pending_item(regimen, test)
    if not scheduled:
        errors["test"] = "This test is not on the regimen's monitoring schedule."
    elif kind == ExceptionKind.WAIVED and pending is None:
        errors["test"] = "Nothing is due for this test to waive."
    if errors:
        raise ValidationError(errors)
    due_date = pending.due_date if pending is not None else done_on
    assert due_date is not None, "a waiver answers a pending item; done elsewhere has its date"
    record = MonitoringException(
        patient=patient,
        regimen=regimen,
        test=test,
        kind=kind,
        done_on=done_on if kind == ExceptionKind.DONE_ELSEWHERE else None,
        due_date=due_date,
        reason=reason.strip(),
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=record,
        patient_id=patient.public_id,
        changes=diff({}, snapshot(record, ("regimen", "test", "kind", "done_on", "due_date"))),
    )
    return record


# --- Long-acting injections ---------------------------------------------------------------


@transaction.atomic
def injection_record(
    *,
    regimen: Regimen,
    actor: User,
    given_on: date,
    site: str,
    dose: Any = None,
    observation_completed: bool = False,
    comment: str = "",
) -> Injection:
    """Record a long-acting injection given (dose defaults to the regimen's). Olanzapine
    pamoate needs the 3-hour post-injection observation confirmed (Zyprexa Relprevv label:
    post-injection delirium/sedation syndrome)."""
    require(actor, Action.PRESCRIBE)
    current = _locked(regimen, None)
    medication = current.medication
    errors: dict[str, str] = {}
    if not current.is_injection or current.status != RegimenStatus.ACTIVE:
        errors["regimen"] = "Injections are recorded on an active long-acting injectable regimen."
    number = _as_decimal(dose if dose not in (None, "") else current.dose, "dose")
    limit = medication.max_dose_per_injection
    if number <= 0:
        errors["dose"] = "Enter a dose above zero."
    elif limit is not None and number > limit and number != current.dose:  # the prescribed dose had its override
        errors["dose"] = f"{_fmt(number)} {medication.unit} is above the largest single injection ({_fmt(limit)})."
    if given_on > timezone.localdate():
        errors["given_on"] = "This date is in the future."
    elif given_on < current.start_date:
        errors["given_on"] = "This is before the regimen started."
    hours = medication.post_injection_observation_hours
    if hours and not observation_completed:
        errors["observation_completed"] = (
            f"{medication.name}: confirm the patient was observed for {hours} hours after the injection "
            "(post-injection delirium/sedation syndrome)."
        )
    if errors:
        raise ValidationError(errors)
    injection = Injection(
        regimen=current,
        given_on=given_on,
        dose=number,
        site=site,
        observed_until=timezone.now() if hours else None,
        comment=comment.strip(),
        given_by=actor,
    )
    injection.full_clean()
    injection.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=injection,
        patient_id=current.patient.public_id,
        changes=diff({}, snapshot(injection, ("given_on", "dose", "site"))),
    )
    return injection


# --- The patient's medication profile --------------------------------------------------------


@transaction.atomic
def medication_profile_update(
    *, patient: Patient, actor: User, benign_ethnic_neutropenia: bool, hla_b1502_risk_ancestry: bool
) -> PatientMedicationProfile:
    require(actor, Action.PRESCRIBE)
    profile = PatientMedicationProfile.objects.select_for_update().filter(patient=patient).first()
    fields = ("benign_ethnic_neutropenia", "hla_b1502_risk_ancestry")
    before = snapshot(profile, fields) if profile else {}
    if profile is None:
        profile = PatientMedicationProfile(patient=patient, updated_by=actor)
    profile.benign_ethnic_neutropenia = benign_ethnic_neutropenia
    profile.hla_b1502_risk_ancestry = hla_b1502_risk_ancestry
    profile.updated_by = actor
    profile.full_clean()
    profile.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=profile,
        patient_id=patient.public_id,
        changes=diff(before, snapshot(profile, fields)),
    )
    return profile
