"""Every non-trivial read of medication data, with visibility and eager loading built in
(STYLE.md rule 4). Patient-scoped reads start from careplans' care-team selectors, so a
clinician sees a regimen only while on its patient's care team; anyone else gets a 404.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from careplans.models import Patient
from careplans.selectors import patients_on_care_team_of
from clinic.access import visible_or_404
from clinic.models import User
from medications.interactions import InteractionWarning, warnings_for_regimens
from medications.models import (
    AdherenceCheck,
    DoseChange,
    LabResult,
    LabTest,
    Medication,
    MonitoringStep,
    Regimen,
    RegimenStatus,
    SideEffect,
)
from medications.monitoring import (
    LabFlag,
    MonitoringItem,
    Observation,
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
    medications = Medication.objects.select_related("monitoring_protocol").order_by("name")
    if not include_inactive:
        medications = medications.filter(is_active=True)
    if name:
        medications = medications.filter(name__icontains=name.strip())
    return medications


# --- Visibility -----------------------------------------------------------------------------


def regimens_visible_to(user: User) -> QuerySet[Regimen]:
    return Regimen.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "medication", "prescriber"
    )


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


def lab_results_visible_to(user: User) -> QuerySet[LabResult]:
    return LabResult.objects.filter(patient__in=patients_on_care_team_of(user)).select_related(
        "patient", "regimen", "recorded_by"
    )


def lab_result_for(*, user: User, public_id: UUID | str) -> LabResult:
    return visible_or_404(lab_results_visible_to(user), user=user, public_id=public_id)


# --- Monitoring ---------------------------------------------------------------------------


def _target_range(regimen: Regimen) -> tuple[Decimal, Decimal] | None:
    if regimen.target_level_low is not None and regimen.target_level_high is not None:
        return (regimen.target_level_low, regimen.target_level_high)
    return None


def monitoring_for_regimens(regimens: Sequence[Regimen], *, today: date) -> dict[int, list[MonitoringItem]]:
    """Monitoring items of each ACTIVE regimen with a protocol (regimens need `medication`
    loaded). Three queries however many regimens: steps, lab results, dose changes."""
    regimens = [r for r in regimens if r.status == RegimenStatus.ACTIVE and r.medication.monitoring_protocol_id]
    if not regimens:
        return {}
    # Keyed like the medication's nullable protocol id (the filter above leaves no None).
    steps_by_protocol: dict[int | None, list[Step]] = defaultdict(list)
    protocol_ids = {r.medication.monitoring_protocol_id for r in regimens}
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
    tests = {s.test for steps in steps_by_protocol.values() for s in steps}
    results: dict[int, list[Observation]] = defaultdict(list)
    for patient_id, test, taken_on, value in (
        LabResult.objects.filter(
            patient_id__in={r.patient_id for r in regimens},
            test__in=tests,
            taken_on__lte=today,
        )
        .values_list("patient_id", "test", "taken_on", "value")
        .order_by()
    ):
        results[patient_id].append(Observation(test, taken_on, value))
    changes: dict[int, list[date]] = defaultdict(list)
    for regimen_id, effective_on in (
        DoseChange.objects.filter(
            regimen_id__in=[r.pk for r in regimens],
            previous_dose__isnull=False,
        )
        .values_list("regimen_id", "effective_on")
        .order_by()
    ):
        changes[regimen_id].append(effective_on)
    return {
        regimen.pk: monitoring_schedule(
            steps=steps_by_protocol[regimen.medication.monitoring_protocol_id],
            start_date=regimen.start_date,
            dose_change_dates=changes[regimen.pk],
            results=results[regimen.patient_id],
            today=today,
            target_range=_target_range(regimen),
            restart_date=regimen.monitoring_restart_on,
        )
        for regimen in regimens
    }


@dataclass(frozen=True)
class MonitoringRow:
    regimen: Regimen
    item: MonitoringItem

    @property
    def test_label(self) -> str:
        return LabTest(self.item.test).label


_STATUS_ORDER = {"overdue": 0, "due": 1, "done": 2}


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
            row.item.due_date.toordinal() * (-1 if row.item.status == "done" else 1),
            row.regimen.medication.name,
        )
    )
    return rows


# --- Lab flags ----------------------------------------------------------------------------------


def lab_flags(results: Sequence[LabResult], regimens: Sequence[Regimen]) -> dict[int, LabFlag]:
    """Out-of-range flags by result pk, judged against the result's regimen target range, else
    the range of the patient's regimen whose level that test measures (no queries)."""
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
        flag = lab_flag(test=result.test, value=result.value, target_range=target)
        if flag is not None:
            flags[result.pk] = flag
    return flags


# --- The chart's medications tab -------------------------------------------------------------


@dataclass
class RegimenView:
    regimen: Regimen
    history: list[DoseChange]
    warnings: list[InteractionWarning]

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


def medications_tab(*, patient: Patient, today: date, lab_limit: int = 100) -> MedicationsTab:
    """Everything the tab shows, in a fixed number of queries whatever the history's length."""
    history = Prefetch(
        "dose_changes",
        queryset=DoseChange.objects.select_related("changed_by").order_by("effective_on", "changed_at", "id"),
        to_attr="history",
    )
    regimens = list(
        Regimen.objects.filter(patient=patient)
        .select_related("medication", "prescriber", "status_changed_by")
        .prefetch_related(history)
        .order_by("medication__name", "-start_date", "id")
    )
    warnings = warnings_for_regimens(regimens)
    views = [RegimenView(r, r.history, warnings.get(r.pk, [])) for r in regimens]  # type: ignore[attr-defined]
    labs = list(
        LabResult.objects.filter(patient=patient).select_related("recorded_by").order_by("-taken_on", "-id")[:lab_limit]
    )
    flags = lab_flags(labs, regimens)
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
    )
