"""Every non-trivial read of medication data, with visibility and eager loading built in
(STYLE.md rule 4). Patient-scoped reads start from careplans' care-team selectors, so a
clinician sees a regimen only while on its patient's care team; anyone else gets a 404.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from careplans.models import Patient
from careplans.selectors import on_care_team_of, patient_ids_on_care_team_of, patients_on_care_team_of
from clinic.access import visible_or_404
from clinic.models import User
from medications import clozapine, injections, lithium
from medications.interactions import InteractionWarning, warnings_for_regimens
from medications.models import (
    CURRENT_REGIMEN_STATUSES,
    AdherenceCheck,
    CriticalResult,
    CriticalResultStatus,
    DoseChange,
    ExceptionKind,
    Injection,
    InteractionAcknowledgement,
    LabResult,
    LabTest,
    Medication,
    MonitoringException,
    MonitoringStep,
    PatientMedicationProfile,
    PrescribingProfile,
    Regimen,
    RegimenStatus,
    SideEffect,
    StepRule,
)
from medications.monitoring import (
    LabFlag,
    MonitoringItem,
    Observation,
    ObservationSource,
    Step,
    lab_flag,
    monitoring_schedule,
)

# --- Contract for other apps (outcomes' timeline and reports) ------------------------------


class DoseEvent(NamedTuple):
    changed_on: date
    medication_name: str
    dose: Decimal
    unit: str
    previous_dose: Decimal | None  # None for the regimen start


def timeline_dose_events(*, patient: Patient) -> list[DoseEvent]:
    """The patient's dose history, oldest first, for the integrated timeline. One query;
    changes and regimens entered in error are left out."""
    rows = (
        DoseChange.objects.filter(regimen__patient=patient, regimen__entered_in_error_at__isnull=True)
        .order_by("effective_on", "changed_at", "id")
        .values_list("effective_on", "regimen__medication__name", "dose", "regimen__unit", "previous_dose")
    )
    return [DoseEvent(*row) for row in rows]


def patients_on_medication_ids() -> QuerySet:
    """Ids (pks) of patients with an active regimen, for clinic reports: `pk__in=` this."""
    return (
        Regimen.objects.filter(status=RegimenStatus.ACTIVE).values_list("patient_id", flat=True).distinct().order_by()
    )


# --- Catalog ----------------------------------------------------------------------------


def medication_catalog(*, name: str = "", include_inactive: bool = False) -> QuerySet[Medication]:
    medications = (
        Medication.objects.select_related("monitoring_protocol").prefetch_related("properties").order_by("name")
    )
    if not include_inactive:
        medications = medications.filter(is_active=True)
    if name:
        medications = medications.filter(name__icontains=name.strip())
    return medications


# --- Visibility -----------------------------------------------------------------------------


def _acknowledgements() -> Prefetch:
    return Prefetch(
        "acknowledgements",
        queryset=InteractionAcknowledgement.objects.select_related("acknowledged_by").order_by("acknowledged_at", "id"),
    )


def regimens_visible_to(user: User) -> QuerySet[Regimen]:
    return (
        Regimen.objects.filter(patient__in=patients_on_care_team_of(user))
        .select_related("patient", "medication", "prescriber")
        .prefetch_related(_acknowledgements())
    )


def prescribing_profile(*, patient: Patient) -> PrescribingProfile:
    """The patient's prescribing profile; an unsaved default when nothing is recorded yet."""
    return PrescribingProfile.objects.filter(patient=patient).first() or PrescribingProfile(patient=patient)


def regimen_for(*, user: User, public_id: UUID | str) -> Regimen:
    return visible_or_404(regimens_visible_to(user), user=user, public_id=public_id)


def regimen_of_patient(*, user: User, patient: Patient, public_id: UUID | str) -> Regimen:
    return visible_or_404(
        Regimen.objects.filter(patient=patient).select_related("medication", "patient"),
        user=user,
        public_id=public_id,
    )


def dose_history(regimen: Regimen) -> QuerySet[DoseChange]:
    """Valid changes, oldest first; the last is the current dose."""
    return (
        DoseChange.objects.filter(regimen=regimen)
        .select_related("changed_by")
        .order_by("effective_on", "changed_at", "id")
    )


def dose_change_of(*, user: User, regimen: Regimen, public_id: UUID | str) -> DoseChange:
    return visible_or_404(
        DoseChange.objects.filter(regimen=regimen).select_related("regimen"),
        user=user,
        public_id=public_id,
    )


def side_effects_visible_to(user: User) -> QuerySet[SideEffect]:
    return SideEffect.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "regimen__medication", "recorded_by"
    )


def adherence_checks_visible_to(user: User) -> QuerySet[AdherenceCheck]:
    return AdherenceCheck.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "regimen__medication", "recorded_by"
    )


def lab_results_visible_to(user: User, *, per_row: bool = True) -> QuerySet[LabResult]:
    """A per-row check by default, so the API's newest-first page walks medications_lab_newest and
    stops at 50 visible rows (a prescriber with 50,000 patients at 1M: 21 ms; through the patient
    queryset 0.9 s). `per_row=False`: the same rows joined by the caller's patient ids, for a count
    (outcomes.selectors.assessments_visible_to)."""
    if not per_row:
        return LabResult.objects.filter(patient_id__in=patient_ids_on_care_team_of(user))
    return LabResult.objects.filter(on_care_team_of(user)).select_related("patient", "regimen", "recorded_by")


def lab_result_for(*, user: User, public_id: UUID | str) -> LabResult:
    return visible_or_404(lab_results_visible_to(user), user=user, public_id=public_id)


def open_critical_results_of(patient: Patient) -> list[CriticalResult]:
    """Open critical results of the patient, newest first, with their lab result (one query)."""
    return list(
        CriticalResult.objects.filter(patient=patient, status=CriticalResultStatus.OPEN)
        .select_related("lab_result")
        .order_by("-raised_at", "-id")
    )


def critical_results_visible_to(user: User) -> QuerySet[CriticalResult]:
    return CriticalResult.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "lab_result", "actioned_by"
    )


def critical_result_of(*, user: User, patient: Patient, public_id: UUID | str) -> CriticalResult:
    return visible_or_404(
        CriticalResult.objects.filter(patient=patient).select_related("lab_result", "patient"),
        user=user,
        public_id=public_id,
    )


def monitoring_exceptions_visible_to(user: User) -> QuerySet[MonitoringException]:
    return MonitoringException.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "regimen", "recorded_by"
    )


def injections_visible_to(user: User) -> QuerySet[Injection]:
    return Injection.objects.filter(regimen__patient__in=patients_on_care_team_of(user)).select_related(
        "regimen__patient", "regimen__medication", "given_by"
    )


def medication_profile_of(patient: Patient) -> PatientMedicationProfile | None:
    return PatientMedicationProfile.objects.filter(patient=patient).first()


# --- Monitoring ---------------------------------------------------------------------------


def _target_range(regimen: Regimen) -> tuple[Decimal, Decimal] | None:
    if regimen.target_level_low is not None and regimen.target_level_high is not None:
        return (regimen.target_level_low, regimen.target_level_high)
    return None


def _steps_by_protocol(protocol_ids: set[int]) -> dict[int, list[Step]]:
    steps_by_protocol: dict[int, list[Step]] = defaultdict(list)
    for step in MonitoringStep.objects.filter(protocol_id__in=protocol_ids).order_by("protocol_id", "position", "id"):
        steps_by_protocol[step.protocol_id].append(
            Step(
                test=step.test,
                kind=step.kind,
                offset_days=step.offset_days,
                interval_days=step.interval_days,
                until_day=step.until_day,
                window_days=step.window_days,
                rule=step.rule,
                label=step.label,
            )
        )
    return steps_by_protocol


def _exceptions(regimen_ids: list[int]) -> dict[int, list[Observation]]:
    by_regimen: dict[int, list[Observation]] = defaultdict(list)
    for regimen_id, test, kind, done_on, due_date, reason in (
        MonitoringException.objects.filter(regimen_id__in=regimen_ids)
        .values_list("regimen_id", "test", "kind", "done_on", "due_date", "reason")
        .order_by()
    ):
        if kind == ExceptionKind.DONE_ELSEWHERE:
            observation = Observation(
                test, done_on, None, ObservationSource.DONE_ELSEWHERE, f"Done elsewhere: {reason}"
            )
        else:
            observation = Observation(test, due_date, None, ObservationSource.WAIVED, f"Waived: {reason}")
        by_regimen[regimen_id].append(observation)
    return by_regimen


def profiles_of(patient_ids: set[int]) -> dict[int, PatientMedicationProfile]:
    return {p.patient_id: p for p in PatientMedicationProfile.objects.filter(patient_id__in=patient_ids)}


@dataclass
class _LithiumContext:
    birth_dates: dict[int, date]
    others: dict[int, list[tuple[str, date]]]


def _lithium_context(regimens: Sequence[Regimen]) -> _LithiumContext | None:
    """Birth dates and the other current drugs of patients on lithium (two queries, or none)."""
    patient_ids = {r.patient_id for r in regimens if r.medication.level_test == LabTest.LITHIUM_LEVEL}
    if not patient_ids:
        return None
    others: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for patient_id, name, started in (
        Regimen.objects.filter(patient_id__in=patient_ids, status__in=CURRENT_REGIMEN_STATUSES)
        .values_list("patient_id", "medication__name", "start_date")
        .order_by()
    ):
        others[patient_id].append((name, started))
    birth_dates = dict(Patient.objects.filter(pk__in=patient_ids).values_list("pk", "birth_date"))
    return _LithiumContext(birth_dates, others)


def _lithium_rules(
    regimen: Regimen, context: _LithiumContext | None, results: list[Observation], today: date
) -> dict[str, Any]:
    if context is None or regimen.medication.level_test != LabTest.LITHIUM_LEVEL:
        return {}
    others = [
        (name, started) for name, started in context.others[regimen.patient_id] if name != regimen.medication.name
    ]
    born = context.birth_dates[regimen.patient_id]
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    interacting = [name for name, _ in others if name in lithium.LITHIUM_INTERACTING]
    cap = lithium.interval_cap(lithium.risk_reasons(age=age, interacting=interacting, results=results))
    return {
        "interval_caps": [cap] if cap else [],
        "extra_checks": lithium.interacting_drug_checks(lithium_start=regimen.start_date, others=others),
    }


def monitoring_for_regimens(regimens: Sequence[Regimen], *, today: date) -> dict[int, list[MonitoringItem]]:
    """Monitoring items of each ACTIVE regimen with a protocol (regimens need `medication`
    loaded). A fixed number of queries however many regimens: steps, lab results, dose
    changes, exceptions, profiles (and, with lithium, birth dates and other drugs)."""
    regimens = [r for r in regimens if r.status == RegimenStatus.ACTIVE and r.medication.monitoring_protocol_id]
    if not regimens:
        return {}
    # The filter above leaves no regimen without a protocol.
    steps_by_protocol = _steps_by_protocol({cast(int, r.medication.monitoring_protocol_id) for r in regimens})
    patient_ids = {r.patient_id for r in regimens}
    tests = {s.test for steps in steps_by_protocol.values() for s in steps}
    results: dict[int, list[Observation]] = defaultdict(list)
    for patient_id, test, taken_on, value in (
        LabResult.objects.filter(patient_id__in=patient_ids, test__in=tests, taken_on__lte=today)
        .values_list("patient_id", "test", "taken_on", "value")
        .order_by()
    ):
        results[patient_id].append(Observation(test, taken_on, value))
    changes: dict[int, list[date]] = defaultdict(list)
    for regimen_id, effective_on in (
        DoseChange.objects.filter(regimen_id__in=[r.pk for r in regimens], previous_dose__isnull=False)
        .values_list("regimen_id", "effective_on")
        .order_by()
    ):
        changes[regimen_id].append(effective_on)
    exceptions = _exceptions([r.pk for r in regimens])
    # The profile matters only to clozapine's ANC bands (BEN) and HLA-B*1502 steps.
    needs_profile = any(
        s.rule in (StepRule.CLOZAPINE_ANC_BANDS, StepRule.IF_HLA_RISK_ANCESTRY)
        for steps in steps_by_protocol.values()
        for s in steps
    )
    profiles = profiles_of(patient_ids) if needs_profile else {}
    lithium_context = _lithium_context(regimens)
    schedules = {}
    for regimen in regimens:
        profile = profiles.get(regimen.patient_id)
        steps = steps_by_protocol[cast(int, regimen.medication.monitoring_protocol_id)]
        if not (profile and profile.hla_b1502_risk_ancestry):
            steps = [s for s in steps if s.rule != StepRule.IF_HLA_RISK_ANCESTRY]
        schedules[regimen.pk] = monitoring_schedule(
            steps=steps,
            start_date=regimen.start_date,
            dose_change_dates=changes[regimen.pk],
            results=results[regimen.patient_id],
            today=today,
            target_range=_target_range(regimen),
            restart_date=regimen.monitoring_restart_on,
            exceptions=exceptions[regimen.pk],
            benign_ethnic_neutropenia=bool(profile and profile.benign_ethnic_neutropenia),
            **_lithium_rules(regimen, lithium_context, results[regimen.patient_id], today),
        )
    return schedules


@dataclass(frozen=True)
class MonitoringRow:
    regimen: Regimen
    item: MonitoringItem

    @property
    def test_label(self) -> str:
        return LabTest(self.item.test).label


_STATUS_ORDER = {"overdue": 0, "due": 1, "done": 2, "waived": 2}


def monitoring_for_patient(
    *, patient: Patient, today: date, regimens: Sequence[Regimen] | None = None
) -> list[MonitoringRow]:
    """The patient's monitoring rows: overdue first, then due, then done, by date."""
    if regimens is None:
        regimens = list(
            Regimen.objects.filter(patient=patient, status=RegimenStatus.ACTIVE).select_related("medication")
        )
    by_regimen = monitoring_for_regimens(regimens, today=today)
    index = {r.pk: r for r in regimens}
    rows = [MonitoringRow(index[pk], item) for pk, items in by_regimen.items() for item in items]
    rows.sort(
        key=lambda row: (
            _STATUS_ORDER[row.item.status],
            row.item.due_date.toordinal() * (-1 if row.item.status in ("done", "waived") else 1),
            row.regimen.medication.name,
        )
    )
    return rows


# --- Lab flags ----------------------------------------------------------------------------------


def ben_patient_ids(patient_ids: set[int]) -> set[int]:
    """Patients with documented benign ethnic neutropenia (one query)."""
    return set(
        PatientMedicationProfile.objects.filter(patient_id__in=patient_ids, benign_ethnic_neutropenia=True).values_list(
            "patient_id", flat=True
        )
    )


def lab_flags(
    results: Sequence[LabResult], regimens: Sequence[Regimen], *, ben_patients: set[int] | frozenset[int] = frozenset()
) -> dict[int, LabFlag]:
    """Out-of-range flags by result pk, judged against the result's regimen target range, else
    the range of the patient's regimen whose level that test measures (no queries). ANCs of
    `ben_patients` are judged by the benign ethnic neutropenia bands."""
    by_pk = {r.pk: r for r in regimens}
    range_by_test: dict[tuple[int, str], tuple[Decimal, Decimal]] = {}
    for regimen in sorted(regimens, key=lambda r: r.status != RegimenStatus.ACTIVE, reverse=True):
        target = _target_range(regimen)
        if regimen.medication.level_test and target is not None:
            range_by_test[(regimen.patient_id, regimen.medication.level_test)] = target
    flags = {}
    for result in results:
        linked = by_pk.get(result.regimen_id) if result.regimen_id else None
        target = _target_range(linked) if linked is not None else None
        target = target or range_by_test.get((result.patient_id, result.test))
        flag = lab_flag(
            test=result.test,
            value=result.value,
            target_range=target,
            benign_ethnic_neutropenia=result.patient_id in ben_patients,
        )
        if flag is not None:
            flags[result.pk] = flag
    return flags


# --- The chart's medications tab -------------------------------------------------------------


@dataclass(frozen=True)
class SafetyNote:
    code: str
    severity: str
    message: str
    source: str


def regimen_safety_notes(regimen: Regimen) -> list[SafetyNote]:
    """Notes the regimen carries whatever else is prescribed (no queries; `medication` loaded)."""
    notes = []
    if regimen.retitration_gap_days and regimen.is_current:
        notes.append(
            SafetyNote(
                "clozapine_retitration",
                "major",
                clozapine.retitration_message(regimen.retitration_gap_days),
                clozapine.RETITRATION_SOURCE,
            )
        )
    hours = regimen.medication.post_injection_observation_hours
    if hours:
        notes.append(
            SafetyNote(
                "post_injection_observation",
                "major",
                f"Observe the patient for {hours} hours after each injection, with access to emergency care "
                "(post-injection delirium/sedation syndrome).",
                "Zyprexa Relprevv US label, boxed warning (CLINICAL.md b11)",
            )
        )
    return notes


@dataclass
class RegimenView:
    regimen: Regimen
    history: list[DoseChange]
    warnings: list[InteractionWarning]
    injections: list[Injection] = field(default_factory=list)
    next_injection_due: date | None = None
    injection_missed: bool = False
    notes: list[SafetyNote] = field(default_factory=list)

    @property
    def current_change(self) -> DoseChange | None:
        return self.history[-1] if self.history else None


@dataclass
class MedicationsTab:
    current: list[RegimenView]
    past: list[RegimenView]
    side_effects: list[SideEffect]
    adherence: list[AdherenceCheck]
    labs: list[tuple[LabResult, LabFlag | None]]
    monitoring: list[MonitoringRow]
    profile: PatientMedicationProfile | None = None
    critical_results: list[CriticalResult] = field(default_factory=list)


def _regimen_view(regimen: Regimen, warnings: list[InteractionWarning], today: date) -> RegimenView:
    view = RegimenView(regimen, regimen.history, warnings, injections=regimen.injection_list)  # type: ignore[attr-defined]
    view.notes = regimen_safety_notes(regimen)
    if regimen.is_injection and regimen.status == RegimenStatus.ACTIVE:
        due = injections.next_injection_due(
            frequency=regimen.frequency, start_date=regimen.start_date, given=[i.given_on for i in view.injections]
        )
        view.next_injection_due = due
        view.injection_missed = due is not None and today >= injections.missed_on(frequency=regimen.frequency, due=due)
    return view


def medications_tab(*, patient: Patient, today: date, lab_limit: int = 100) -> MedicationsTab:
    """Everything the tab shows, in a fixed number of queries whatever the history's length."""
    history = Prefetch(
        "dose_changes",
        queryset=DoseChange.objects.select_related("changed_by").order_by("effective_on", "changed_at", "id"),
        to_attr="history",
    )
    given = Prefetch(
        "injections",
        queryset=Injection.objects.select_related("given_by").order_by("given_on", "id"),
        to_attr="injection_list",
    )
    regimens = list(
        Regimen.objects.filter(patient=patient)
        .select_related("medication", "prescriber", "status_changed_by")
        .prefetch_related(history, _acknowledgements(), given)
        .order_by("medication__name", "-start_date", "id")
    )
    warnings = warnings_for_regimens(regimens)
    views = [_regimen_view(r, warnings.get(r.pk, []), today) for r in regimens]
    labs = list(
        LabResult.objects.filter(patient=patient).select_related("recorded_by").order_by("-taken_on", "-id")[:lab_limit]
    )
    profile = medication_profile_of(patient)
    ben = {patient.pk} if profile and profile.benign_ethnic_neutropenia else set()
    flags = lab_flags(labs, regimens, ben_patients=ben)
    return MedicationsTab(
        current=[v for v in views if v.regimen.is_current],
        past=[v for v in views if not v.regimen.is_current],
        side_effects=list(
            SideEffect.objects.filter(patient=patient).select_related("regimen__medication", "recorded_by")
        ),
        adherence=list(
            AdherenceCheck.objects.filter(patient=patient).select_related("regimen__medication", "recorded_by")
        ),
        labs=[(lab, flags.get(lab.pk)) for lab in labs],
        monitoring=monitoring_for_patient(patient=patient, today=today, regimens=regimens),
        profile=profile,
        critical_results=list(
            CriticalResult.objects.filter(patient=patient)
            .select_related("lab_result", "actioned_by")
            .order_by("-raised_at", "-id")[:10]
        ),
    )
