"""Psychotropic medication: the catalog, monitoring protocols, interaction rules (data the
clinic admin edits), and each patient's regimens with their append-only dose history,
side effects, adherence checks and lab results (clinical records, never deleted).

The current dose of a regimen is its latest valid DoseChange (DESIGN.md); `Regimen.dose`
keeps a copy that only the services write, under the regimen's row lock.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from careplans.models import Patient
from clinic.fields import BoundedTextField
from clinic.models import ClinicalRecord, PublicIdModel
from clinic.validators import MEDIUM_TEXT_MAX_LENGTH


class DrugClass(models.TextChoices):
    SSRI = "ssri", "SSRI antidepressant"
    SNRI = "snri", "SNRI antidepressant"
    TCA = "tca", "Tricyclic antidepressant"
    MAOI = "maoi", "MAO inhibitor"
    OTHER_ANTIDEPRESSANT = "other_antidepressant", "Other antidepressant"
    ANXIOLYTIC = "anxiolytic", "Anxiolytic"
    MOOD_STABILIZER = "mood_stabilizer", "Mood stabilizer"
    ANTIPSYCHOTIC_SGA = "antipsychotic_sga", "Second-generation antipsychotic"
    ANTIPSYCHOTIC_FGA = "antipsychotic_fga", "First-generation antipsychotic"
    HYPNOTIC = "hypnotic", "Hypnotic"
    STIMULANT = "stimulant", "Stimulant"
    OTHER = "other", "Other (non-psychotropic)"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"


class Frequency(models.TextChoices):
    ONCE_DAILY = "once_daily", "Once daily"
    EVERY_MORNING = "every_morning", "Every morning"
    AT_BEDTIME = "at_bedtime", "At bedtime"
    TWICE_DAILY = "twice_daily", "Twice daily"
    THREE_TIMES_DAILY = "three_times_daily", "Three times daily"
    FOUR_TIMES_DAILY = "four_times_daily", "Four times daily"
    # Long-acting injectables (depots): one injection per interval (INJECTION_INTERVALS).
    EVERY_2_WEEKS = "every_2_weeks", "Every 2 weeks"
    EVERY_4_WEEKS = "every_4_weeks", "Every 4 weeks"
    MONTHLY = "monthly", "Monthly"
    EVERY_3_MONTHS = "every_3_months", "Every 3 months"
    EVERY_6_MONTHS = "every_6_months", "Every 6 months"
    # PRN: taken when needed, up to the regimen's max_doses_per_day.
    AS_NEEDED = "as_needed", "As needed (PRN)"


# Daily dose = dose x doses per day; the max-dose rule compares that to the catalog.
# A PRN regimen's daily dose is its dose x its own maximum doses per day; an injection's
# limit is the catalog's per-injection maximum instead (services.dose_validate).
DOSES_PER_DAY: dict[str, int] = {
    Frequency.ONCE_DAILY: 1,
    Frequency.EVERY_MORNING: 1,
    Frequency.AT_BEDTIME: 1,
    Frequency.TWICE_DAILY: 2,
    Frequency.THREE_TIMES_DAILY: 3,
    Frequency.FOUR_TIMES_DAILY: 4,
}

# Injection intervals as (days, months): monthly products are given on the same day of the
# month (Invega Sustenna, Abilify Maintena labels: "monthly"), the others every N days.
INJECTION_INTERVALS: dict[str, tuple[int, int]] = {
    Frequency.EVERY_2_WEEKS: (14, 0),
    Frequency.EVERY_4_WEEKS: (28, 0),
    Frequency.MONTHLY: (0, 1),
    Frequency.EVERY_3_MONTHS: (0, 3),
    Frequency.EVERY_6_MONTHS: (0, 6),
}


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    SUBLINGUAL = "sublingual", "Sublingual"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    TRANSDERMAL = "transdermal", "Transdermal"


class LabTest(models.TextChoices):
    """Tests the monitoring protocols ask for; each has one unit (LAB_UNITS)."""

    LITHIUM_LEVEL = "lithium_level", "Lithium level (12-h trough)"
    ANC = "anc", "Absolute neutrophil count"
    FBC = "fbc", "Full blood count (white cells)"
    PLATELETS = "platelets", "Platelet count"
    LFT = "lft", "Liver function (ALT)"
    INR = "inr", "Clotting screen (INR)"
    EGFR = "egfr", "eGFR"
    CREATININE = "creatinine", "U&E (creatinine)"
    TSH = "tsh", "Thyroid function (TSH)"
    CALCIUM = "calcium", "Calcium (adjusted)"
    BMI = "bmi", "Weight / BMI"
    WAIST = "waist", "Waist circumference"
    BP_SYSTOLIC = "bp_systolic", "Blood pressure (systolic)"
    FASTING_GLUCOSE = "fasting_glucose", "Fasting plasma glucose"
    FASTING_LIPIDS = "fasting_lipids", "Fasting lipid profile (LDL-C)"
    WEIGHT = "weight", "Body weight"
    SODIUM = "sodium", "Sodium"
    QTC = "qtc", "ECG (QTc)"
    HLA_B1502 = "hla_b1502", "HLA-B*1502 genotype"
    PREGNANCY_TEST = "pregnancy_test", "Pregnancy test"


LAB_UNITS: dict[str, str] = {
    LabTest.LITHIUM_LEVEL: "mmol/L",
    LabTest.ANC: "/µL",
    LabTest.FBC: "x10^9/L",
    LabTest.PLATELETS: "x10^9/L",
    LabTest.LFT: "U/L",
    LabTest.INR: "ratio",
    LabTest.EGFR: "mL/min/1.73m2",
    LabTest.CREATININE: "µmol/L",
    LabTest.TSH: "mIU/L",
    LabTest.CALCIUM: "mmol/L",
    LabTest.BMI: "kg/m2",
    LabTest.WAIST: "cm",
    LabTest.BP_SYSTOLIC: "mmHg",
    LabTest.FASTING_GLUCOSE: "mg/dL",
    LabTest.FASTING_LIPIDS: "mg/dL",
    LabTest.WEIGHT: "kg",
    LabTest.SODIUM: "mmol/L",
    LabTest.QTC: "ms",
    # Qualitative tests are stored as 1 (positive) or 0 (negative).
    LabTest.HLA_B1502: "1=positive",
    LabTest.PREGNANCY_TEST: "1=positive",
}
QUALITATIVE_TESTS = frozenset({LabTest.HLA_B1502, LabTest.PREGNANCY_TEST})


class MonitoringProtocol(PublicIdModel):
    """A published monitoring schedule, as data (DESIGN.md: editable by the clinic admin)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    source = BoundedTextField(
        max_length=MEDIUM_TEXT_MAX_LENGTH, help_text="The published schedule this protocol follows (citation, URL)."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(source=""), name="%(app_label)s_%(class)s_source_required"),
        ]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    ONCE = "once", "Once, N days after the start"
    REPEAT = "repeat", "Repeating, every N days since the last result"
    AFTER_DOSE_CHANGE = "after_dose_change", "N days after the start and after every dose change"


class StepRule(models.TextChoices):
    NONE = "", "None"
    UNTIL_IN_RANGE = "until_in_range", "Repeat until a level is within the target range"
    CLOZAPINE_ANC_BANDS = "clozapine_anc_bands", "Clozapine neutropenia bands change the interval"
    IF_HLA_RISK_ANCESTRY = "if_hla_risk_ancestry", "Only where the patient's ancestry puts them at HLA-B*1502 risk"


class MonitoringStep(models.Model):
    """One row of a protocol. How monitoring.py reads each kind is documented there."""

    protocol = models.ForeignKey(MonitoringProtocol, on_delete=models.CASCADE, related_name="steps")
    test = models.CharField(max_length=24, choices=LabTest.choices)
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    offset_days = models.PositiveIntegerField(
        default=0,
        help_text="Once: days after the start. Repeat: the day this phase begins. "
        "After a dose change: days after each change.",
    )
    interval_days = models.PositiveIntegerField(null=True, blank=True, help_text="Repeat: days between tests.")
    until_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Repeat: the day this phase ends (blank: never)."
    )
    window_days = models.PositiveIntegerField(
        default=7, help_text="A result up to this many days before the due date still counts."
    )
    rule = models.CharField(max_length=24, choices=StepRule.choices, blank=True, default=StepRule.NONE)
    label = models.CharField(max_length=80, help_text="How the step reads on the chart, e.g. “Week 12”.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["protocol", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(test__in=LabTest.values), name="%(app_label)s_%(class)s_test_valid"),
            models.CheckConstraint(condition=Q(kind__in=StepKind.values), name="%(app_label)s_%(class)s_kind_valid"),
            models.CheckConstraint(condition=Q(rule__in=StepRule.values), name="%(app_label)s_%(class)s_rule_valid"),
            models.CheckConstraint(
                condition=~Q(kind=StepKind.REPEAT) | Q(interval_days__isnull=False, interval_days__gte=1),
                name="%(app_label)s_%(class)s_repeat_has_interval",
            ),
            models.CheckConstraint(
                condition=Q(until_day__isnull=True) | Q(until_day__gt=models.F("offset_days")),
                name="%(app_label)s_%(class)s_phase_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test} ({self.label})"


class Medication(PublicIdModel):
    """The catalog: shipped by a data migration, edited by the clinic admin in the Django admin."""

    name = models.CharField(max_length=80, unique=True)
    drug_class = models.CharField(max_length=24, choices=DrugClass.choices)
    rxnorm = models.CharField(
        "RxNorm RXCUI",
        max_length=12,
        blank=True,
        help_text="RxNorm ingredient concept (TTY=IN, NLM RxNorm): the code FHIR MedicationRequests carry.",
    )
    unit = models.CharField(max_length=8, choices=DoseUnit.choices, default=DoseUnit.MG)
    max_daily_dose = models.DecimalField(
        max_digits=9, decimal_places=3, help_text="Usual maximum adult daily dose from the labeling."
    )
    max_dose_source = models.CharField(max_length=300, help_text="Where the maximum comes from.")
    monitoring_protocol = models.ForeignKey(
        MonitoringProtocol, null=True, blank=True, on_delete=models.PROTECT, related_name="medications"
    )
    level_test = models.CharField(
        max_length=24, choices=LabTest.choices, blank=True, help_text="The serum level that tracks this drug, if any."
    )
    target_level_low = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    target_level_high = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    target_level_source = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered when starting a regimen.")
    washout_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="After it is stopped, how many days it still counts for the interaction rules marked "
        "'washout' (e.g. fluoxetine 35 days before an MAOI).",
    )
    washout_source = models.CharField(max_length=300, blank=True)
    long_acting_injectable = models.BooleanField(
        default=False, help_text="A depot: given as intramuscular injections at one of `injection_frequencies`."
    )
    injection_frequencies = models.CharField(
        max_length=80, blank=True, help_text="Comma-separated frequencies the label allows, e.g. “monthly”."
    )
    max_dose_per_injection = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True, help_text="Largest single injection in the label."
    )
    min_dose_per_injection = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    post_injection_observation_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hours a patient is observed after each injection (e.g. olanzapine pamoate)."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(drug_class__in=DrugClass.values), name="%(app_label)s_%(class)s_drug_class_valid"
            ),
            models.CheckConstraint(
                condition=Q(washout_days__isnull=True) | ~Q(washout_source=""),
                name="%(app_label)s_%(class)s_washout_has_source",
            ),
            models.CheckConstraint(
                condition=Q(long_acting_injectable=False)
                | (
                    Q(max_dose_per_injection__isnull=False, max_dose_per_injection__gt=0) & ~Q(injection_frequencies="")
                ),
                name="%(app_label)s_%(class)s_injectable_has_limits",
            ),
            models.CheckConstraint(condition=Q(unit__in=DoseUnit.values), name="%(app_label)s_%(class)s_unit_valid"),
            models.CheckConstraint(condition=Q(max_daily_dose__gt=0), name="%(app_label)s_%(class)s_max_dose_positive"),
            models.CheckConstraint(
                condition=Q(target_level_low__isnull=True)
                | Q(target_level_high__isnull=True)
                | Q(target_level_low__lt=models.F("target_level_high")),
                name="%(app_label)s_%(class)s_target_range_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_injection_frequencies(self) -> list[str]:
        return [f.strip() for f in self.injection_frequencies.split(",") if f.strip()]


class InteractionSeverity(models.TextChoices):
    CONTRAINDICATED = "contraindicated", "Contraindicated"
    MAJOR = "major", "Major"
    MODERATE = "moderate", "Moderate"


# Most severe first; a start or dose change raising one of BLOCKING needs an acknowledgement.
SEVERITY_RANK: dict[str, int] = {
    InteractionSeverity.CONTRAINDICATED: 0,
    InteractionSeverity.MAJOR: 1,
    InteractionSeverity.MODERATE: 2,
}
BLOCKING_SEVERITIES = frozenset({InteractionSeverity.CONTRAINDICATED, InteractionSeverity.MAJOR})


class DrugPropertyKind(models.TextChoices):
    """What a drug does that interaction rules combine. CYP and UGT roles follow the FDA's
    "Drug Development and Drug Interactions: Table of Substrates, Inhibitors and Inducers"
    (strong inhibitor: AUC of a sensitive substrate x5 or more, moderate x2-5; strong inducer:
    AUC down 80 % or more, moderate 50-80 %; sensitive substrate: AUC x5 or more with a strong
    inhibitor, moderate sensitive x2-5). QT tiers are CredibleMeds' (known, possible, conditional
    risk of torsades de pointes)."""

    SEROTONERGIC = "serotonergic", "Serotonergic"
    SEROTONIN_REUPTAKE_INHIBITOR = "sri", "Serotonin reuptake inhibitor (platelet serotonin depletion)"
    MAO_INHIBITOR = "mao_inhibitor", "MAO inhibitor"
    QT_KNOWN = "qt_known", "QT: known risk of torsades"
    QT_POSSIBLE = "qt_possible", "QT: possible risk of torsades"
    QT_CONDITIONAL = "qt_conditional", "QT: conditional risk of torsades"
    CYP1A2_INHIBITOR_STRONG = "cyp1a2_inhibitor_strong", "CYP1A2 strong inhibitor"
    CYP1A2_INHIBITOR_MODERATE = "cyp1a2_inhibitor_moderate", "CYP1A2 moderate inhibitor"
    CYP1A2_INDUCER_STRONG = "cyp1a2_inducer_strong", "CYP1A2 strong inducer"
    CYP1A2_INDUCER_MODERATE = "cyp1a2_inducer_moderate", "CYP1A2 moderate inducer"
    CYP1A2_SUBSTRATE_SENSITIVE = "cyp1a2_substrate_sensitive", "CYP1A2 sensitive substrate"
    CYP1A2_SUBSTRATE_MODERATE = "cyp1a2_substrate_moderate", "CYP1A2 moderate sensitive substrate"
    CYP2D6_INHIBITOR_STRONG = "cyp2d6_inhibitor_strong", "CYP2D6 strong inhibitor"
    CYP2D6_INHIBITOR_MODERATE = "cyp2d6_inhibitor_moderate", "CYP2D6 moderate inhibitor"
    CYP2D6_SUBSTRATE_SENSITIVE = "cyp2d6_substrate_sensitive", "CYP2D6 sensitive substrate"
    CYP2D6_SUBSTRATE_MODERATE = "cyp2d6_substrate_moderate", "CYP2D6 moderate sensitive substrate"
    CYP3A4_INHIBITOR_STRONG = "cyp3a4_inhibitor_strong", "CYP3A4 strong inhibitor"
    CYP3A4_INHIBITOR_MODERATE = "cyp3a4_inhibitor_moderate", "CYP3A4 moderate inhibitor"
    CYP3A4_INDUCER_STRONG = "cyp3a4_inducer_strong", "CYP3A4 strong inducer"
    CYP3A4_INDUCER_MODERATE = "cyp3a4_inducer_moderate", "CYP3A4 moderate inducer"
    CYP3A4_SUBSTRATE_SENSITIVE = "cyp3a4_substrate_sensitive", "CYP3A4 sensitive substrate"
    CYP3A4_SUBSTRATE_MODERATE = "cyp3a4_substrate_moderate", "CYP3A4 moderate sensitive substrate"
    UGT_INHIBITOR = "ugt_inhibitor", "Glucuronidation (UGT) inhibitor"
    UGT_INDUCER = "ugt_inducer", "Glucuronidation (UGT) inducer"
    UGT_SUBSTRATE = "ugt_substrate", "Cleared by glucuronidation (UGT)"
    CNS_DEPRESSANT = "cns_depressant", "CNS depressant"
    RESPIRATORY_DEPRESSANT = "respiratory_depressant", "Respiratory depressant (opioid)"
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    LOWERS_SEIZURE_THRESHOLD = "lowers_seizure_threshold", "Lowers the seizure threshold"
    REDUCES_LITHIUM_CLEARANCE = "reduces_lithium_clearance", "Reduces lithium clearance"
    NEUTROPENIA_RISK = "neutropenia_risk", "Can cause neutropenia / agranulocytosis"
    ANTICHOLINERGIC_HIGH = "anticholinergic_high", "Strongly anticholinergic (ACB score 3)"
    BLEEDING_RISK = "bleeding_risk", "Raises bleeding risk (NSAID, anticoagulant)"
    PREGNANCY_PREVENTION = "pregnancy_prevention", "Needs a pregnancy test and prevention programme"


class DrugProperty(models.Model):
    """One property of one catalog drug, with where it comes from (edited in the admin)."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="properties")
    kind = models.CharField(max_length=32, choices=DrugPropertyKind.choices)
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["medication", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DrugPropertyKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(source=""), name="%(app_label)s_%(class)s_source_required"),
            models.UniqueConstraint(fields=["medication", "kind"], name="%(app_label)s_%(class)s_once_per_drug"),
        ]

    def __str__(self) -> str:
        return f"{self.medication_id}: {self.kind}"


class InteractionAction(models.TextChoices):
    AVOID = "avoid", "Avoid"
    REDUCE = "reduce", "Reduce the dose"
    ADJUST = "adjust", "Adjust the dose"
    MONITOR = "monitor", "Monitor"


class InteractionHazard(models.TextChoices):
    """What goes wrong. For one pair of drugs a rule naming a drug wins over a class or property
    rule of the same hazard (the label's specific advice replaces the generic one)."""

    SEROTONIN = "serotonin", "Serotonin syndrome"
    HYPERTENSION = "hypertension", "Hypertensive crisis"
    QT = "qt", "QT prolongation / torsades"
    EXPOSURE_UP = "exposure_up", "Raised drug levels"
    EXPOSURE_DOWN = "exposure_down", "Lowered drug levels"
    RESPIRATORY = "respiratory", "Sedation and respiratory depression"
    SEIZURE = "seizure", "Seizures"
    LITHIUM = "lithium", "Lithium toxicity"
    NEUTROPENIA = "neutropenia", "Neutropenia / agranulocytosis"
    ANTICHOLINERGIC = "anticholinergic", "Anticholinergic burden"
    BLEEDING = "bleeding", "Bleeding"
    RASH = "rash", "Serious rash"
    OTHER = "other", "Other"


class InteractionRule(models.Model):
    """One curated, cited dangerous combination. Each side names a drug, a drug class or a drug
    property (a class rule combines properties; a pair rule names the drugs a label singles out).

    A small hand-kept table, NOT a complete interaction database (README; CLINICAL.md b10).
    """

    code = models.SlugField(max_length=60, unique=True, help_text="Stable: acknowledgements record it.")
    medication_a = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drug_class_a = models.CharField(max_length=24, choices=DrugClass.choices, blank=True)
    property_a = models.CharField(max_length=32, choices=DrugPropertyKind.choices, blank=True)
    medication_b = models.ForeignKey(Medication, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    drug_class_b = models.CharField(max_length=24, choices=DrugClass.choices, blank=True)
    property_b = models.CharField(max_length=32, choices=DrugPropertyKind.choices, blank=True)
    severity = models.CharField(max_length=16, choices=InteractionSeverity.choices)
    hazard = models.CharField(max_length=16, choices=InteractionHazard.choices, default=InteractionHazard.OTHER)
    risk = models.CharField(max_length=200, help_text="The danger, e.g. “serotonin syndrome”.")
    mechanism = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=8, choices=InteractionAction.choices, default=InteractionAction.MONITOR)
    advice = models.CharField(max_length=300, blank=True, help_text="Avoid / reduce to X / monitor Y.")
    source = models.CharField(max_length=300)
    washout = models.BooleanField(
        default=False, help_text="Also checked against a drug stopped within its washout window."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=InteractionSeverity.values), name="%(app_label)s_%(class)s_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(hazard__in=InteractionHazard.values), name="%(app_label)s_%(class)s_hazard_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=InteractionAction.values), name="%(app_label)s_%(class)s_action_valid"
            ),
            models.CheckConstraint(
                condition=(Q(medication_a__isnull=False) & Q(drug_class_a="") & Q(property_a=""))
                | (Q(medication_a__isnull=True) & ~Q(drug_class_a="") & Q(property_a=""))
                | (Q(medication_a__isnull=True) & Q(drug_class_a="") & ~Q(property_a="")),
                name="%(app_label)s_%(class)s_side_a_one_of",
            ),
            models.CheckConstraint(
                condition=(Q(medication_b__isnull=False) & Q(drug_class_b="") & Q(property_b=""))
                | (Q(medication_b__isnull=True) & ~Q(drug_class_b="") & Q(property_b=""))
                | (Q(medication_b__isnull=True) & Q(drug_class_b="") & ~Q(property_b="")),
                name="%(app_label)s_%(class)s_side_b_one_of",
            ),
            models.CheckConstraint(condition=~Q(source=""), name="%(app_label)s_%(class)s_source_required"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_pair_rule(self) -> bool:
        """Names a drug on at least one side: the label's own advice for that drug."""
        return self.medication_a_id is not None or self.medication_b_id is not None


class SmokingStatus(models.TextChoices):
    UNKNOWN = "unknown", "Not recorded"
    SMOKER = "smoker", "Smokes tobacco"
    NON_SMOKER = "non_smoker", "Does not smoke"


class HepaticImpairment(models.TextChoices):
    NONE = "none", "None known"
    MILD = "mild", "Mild (Child-Pugh A)"
    MODERATE = "moderate", "Moderate (Child-Pugh B)"
    SEVERE = "severe", "Severe (Child-Pugh C)"


HEPATIC_RANK: dict[str, int] = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}


class PregnancyPotential(models.TextChoices):
    UNKNOWN = "unknown", "Not recorded"
    YES = "yes", "Could become pregnant"
    NO = "no", "Cannot become pregnant"


class PrescribingProfile(PublicIdModel):
    """The facts about a patient that change what may be prescribed: smoking (CYP1A2
    induction), hepatic impairment, pregnancy potential. One row per patient, audited."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="prescribing_profile")
    smoking_status = models.CharField(max_length=12, choices=SmokingStatus.choices, default=SmokingStatus.UNKNOWN)
    hepatic_impairment = models.CharField(
        max_length=10, choices=HepaticImpairment.choices, default=HepaticImpairment.NONE
    )
    pregnancy_potential = models.CharField(
        max_length=8, choices=PregnancyPotential.choices, default=PregnancyPotential.UNKNOWN
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(smoking_status__in=SmokingStatus.values), name="%(app_label)s_%(class)s_smoking_valid"
            ),
            models.CheckConstraint(
                condition=Q(hepatic_impairment__in=HepaticImpairment.values),
                name="%(app_label)s_%(class)s_hepatic_valid",
            ),
            models.CheckConstraint(
                condition=Q(pregnancy_potential__in=PregnancyPotential.values),
                name="%(app_label)s_%(class)s_pregnancy_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"prescribing profile {self.public_id}"


class LimitCondition(models.TextChoices):
    AGE_ABOVE = "age_above", "Age above (years)"
    HEPATIC = "hepatic", "Hepatic impairment at least"
    EGFR_BELOW = "egfr_below", "Latest eGFR below (mL/min/1.73m2)"
    PER_KG = "per_kg", "Per kg of the latest body weight"
    INDICATION = "indication", "Indication mentions"


class DoseLimit(models.Model):
    """A patient-specific maximum daily dose from the label (data, edited in the admin).

    Age, hepatic, renal and weight limits lower the catalog maximum when they apply (the lowest
    wins); indication limits set the maximum for that indication (the highest matching wins).
    A maximum of 0 means "not recommended"."""

    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="dose_limits")
    condition = models.CharField(max_length=12, choices=LimitCondition.choices)
    threshold = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, help_text="Age in years, or eGFR."
    )
    hepatic_level = models.CharField(max_length=10, choices=HepaticImpairment.choices, blank=True)
    keyword = models.CharField(max_length=40, blank=True, help_text="Indication: a word the indication contains.")
    max_daily_dose = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    max_per_kg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    reason = models.CharField(max_length=200, help_text="How the error names it, e.g. “above age 60 (QT)”.")
    source = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["medication", "condition", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(condition__in=LimitCondition.values), name="%(app_label)s_%(class)s_condition_valid"
            ),
            models.CheckConstraint(condition=~Q(source=""), name="%(app_label)s_%(class)s_source_required"),
            models.CheckConstraint(
                condition=(Q(condition="per_kg") & Q(max_per_kg__gt=0) & Q(max_daily_dose__isnull=True))
                | (~Q(condition="per_kg") & Q(max_per_kg__isnull=True) & Q(max_daily_dose__gte=0)),
                name="%(app_label)s_%(class)s_one_maximum",
            ),
            models.CheckConstraint(
                condition=~Q(condition__in=["age_above", "egfr_below"]) | Q(threshold__isnull=False),
                name="%(app_label)s_%(class)s_threshold_given",
            ),
            models.CheckConstraint(
                condition=~Q(condition="hepatic") | Q(hepatic_level__in=["mild", "moderate", "severe"]),
                name="%(app_label)s_%(class)s_hepatic_level_given",
            ),
            models.CheckConstraint(
                condition=~Q(condition="indication") | ~Q(keyword=""), name="%(app_label)s_%(class)s_keyword_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition} limit {self.pk}"


class RegimenStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


CURRENT_REGIMEN_STATUSES = (RegimenStatus.ACTIVE, RegimenStatus.PAUSED)


class Regimen(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="regimens")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="regimens")
    dose = models.DecimalField(max_digits=9, decimal_places=3, help_text="The current dose (latest change).")
    unit = models.CharField(max_length=8, choices=DoseUnit.choices)
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    route = models.CharField(max_length=16, choices=Route.choices, default=Route.ORAL)
    max_doses_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="PRN (as needed): at most this many doses in a day."
    )
    start_date = models.DateField()
    indication = models.CharField(max_length=200, blank=True)
    target_dose = models.DecimalField(
        max_digits=9, decimal_places=3, null=True, blank=True, help_text="Where a titration is heading."
    )
    target_level_low = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    target_level_high = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=RegimenStatus.choices, default=RegimenStatus.ACTIVE)
    status_reason = models.CharField(max_length=300, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stopped_on = models.DateField(null=True, blank=True)
    monitoring_restart_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="Resumed after an interruption of more than 30 days: clozapine ANC monitoring restarts "
        "as for a new patient from this date.",
    )
    retitration_gap_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Clozapine (re)started after this many days without it: re-titrate (Clozaril label 2.5).",
    )
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["medication__name", "-start_date", "id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RegimenStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="%(app_label)s_%(class)s_frequency_valid"
            ),
            models.CheckConstraint(condition=Q(route__in=Route.values), name="%(app_label)s_%(class)s_route_valid"),
            models.CheckConstraint(condition=Q(unit__in=DoseUnit.values), name="%(app_label)s_%(class)s_unit_valid"),
            models.CheckConstraint(condition=Q(dose__gt=0), name="%(app_label)s_%(class)s_dose_positive"),
            models.CheckConstraint(
                condition=Q(target_dose__isnull=True) | Q(target_dose__gt=0),
                name="%(app_label)s_%(class)s_target_dose_positive",
            ),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=models.F("start_date")),
                name="%(app_label)s_%(class)s_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(target_level_low__isnull=True)
                | Q(target_level_high__isnull=True)
                | Q(target_level_low__lt=models.F("target_level_high")),
                name="%(app_label)s_%(class)s_target_range_in_order",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="%(app_label)s_%(class)s_version_positive"),
            models.CheckConstraint(
                condition=(Q(frequency="as_needed") & Q(max_doses_per_day__isnull=False, max_doses_per_day__gte=1))
                | (~Q(frequency="as_needed") & Q(max_doses_per_day__isnull=True)),
                name="%(app_label)s_%(class)s_prn_has_daily_maximum",
            ),
            # One current (active or paused) regimen per patient and medication.
            models.UniqueConstraint(
                fields=["patient", "medication"],
                condition=Q(status__in=["active", "paused"], entered_in_error_at__isnull=True),
                name="%(app_label)s_%(class)s_one_active_per_medication",
            ),
        ]

    def __str__(self) -> str:
        return f"regimen {self.public_id} ({self.status})"

    @property
    def daily_dose(self) -> Decimal | None:
        """The most taken in a day; None for an injection (its limit is per injection)."""
        if self.frequency == Frequency.AS_NEEDED:
            return self.dose * (self.max_doses_per_day or 1)
        if self.frequency in DOSES_PER_DAY:
            return self.dose * DOSES_PER_DAY[self.frequency]
        return None

    @property
    def is_injection(self) -> bool:
        return self.frequency in INJECTION_INTERVALS

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_REGIMEN_STATUSES

    @property
    def level_unit(self) -> str:
        return LAB_UNITS.get(self.medication.level_test, "")


class DoseReason(models.TextChoices):
    START = "start", "Regimen started"
    TITRATION_UP = "titration_up", "Titration up"
    TITRATION_DOWN = "titration_down", "Titration down"
    SIDE_EFFECT = "side_effect", "Side effect"
    INEFFECTIVE = "ineffective", "Ineffective"
    ADHERENCE = "adherence", "Adherence"
    PATIENT_PREFERENCE = "patient_preference", "Patient preference"


class DoseChange(ClinicalRecord):
    """Append-only dose history. A wrong entry is marked entered-in-error, never rewritten.

    The first row of a regimen is its start (previous_dose empty, reason_code "start").
    """

    regimen = models.ForeignKey(Regimen, on_delete=models.PROTECT, related_name="dose_changes")
    previous_dose = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    dose = models.DecimalField(max_digits=9, decimal_places=3)
    reason = models.CharField(max_length=500)
    reason_code = models.CharField(max_length=20, choices=DoseReason.choices, blank=True)
    override_reason = models.CharField(
        max_length=500, blank=True, help_text="Why a daily dose above the usual maximum is intended."
    )
    effective_on = models.DateField(default=timezone.localdate)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["effective_on", "changed_at", "id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["regimen", "effective_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(dose__gt=0), name="%(app_label)s_%(class)s_dose_positive"),
            models.CheckConstraint(
                condition=Q(reason_code__in=[*DoseReason.values, ""]), name="%(app_label)s_%(class)s_reason_code_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
        ]

    def __str__(self) -> str:
        return f"dose change {self.public_id}"

    @property
    def is_start(self) -> bool:
        return self.previous_dose is None


class InteractionAcknowledgement(PublicIdModel):
    """A prescriber's recorded decision to go ahead despite a contraindicated or major warning."""

    regimen = models.ForeignKey(Regimen, on_delete=models.PROTECT, related_name="acknowledgements")
    dose_change = models.ForeignKey(
        DoseChange, null=True, blank=True, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    code = models.SlugField(max_length=60)
    severity = models.CharField(max_length=16, choices=InteractionSeverity.choices)
    drugs = models.CharField(max_length=200)
    reason = models.CharField(max_length=500)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=InteractionSeverity.values), name="%(app_label)s_%(class)s_severity_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
        ]

    def __str__(self) -> str:
        return f"acknowledgement {self.public_id} ({self.code})"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class SideEffect(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="side_effects")
    regimen = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="side_effects")
    effect = models.CharField(max_length=200)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    onset = models.DateField()
    action_taken = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-onset", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=Severity.values), name="%(app_label)s_%(class)s_severity_valid"
            ),
            models.CheckConstraint(condition=~Q(effect=""), name="%(app_label)s_%(class)s_effect_required"),
        ]

    def __str__(self) -> str:
        return f"side effect {self.public_id} ({self.severity})"


class AdherenceMethod(models.TextChoices):
    SELF_REPORT = "self_report", "Self-report"
    PILL_COUNT = "pill_count", "Pill count"
    PHARMACY_REFILL = "pharmacy_refill", "Pharmacy refill"


class AdherenceCheck(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adherence_checks")
    regimen = models.ForeignKey(
        Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="adherence_checks"
    )
    checked_on = models.DateField()
    method = models.CharField(max_length=16, choices=AdherenceMethod.choices)
    percent = models.PositiveSmallIntegerField(help_text="Doses taken as prescribed, 0–100 %.")
    barriers = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-checked_on", "-id"]
        base_manager_name = "all_records"
        constraints = [
            models.CheckConstraint(
                condition=Q(method__in=AdherenceMethod.values), name="%(app_label)s_%(class)s_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="%(app_label)s_%(class)s_percent_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"adherence check {self.public_id}"


class LabResult(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_results")
    regimen = models.ForeignKey(Regimen, null=True, blank=True, on_delete=models.PROTECT, related_name="lab_results")
    test = models.CharField(max_length=24, choices=LabTest.choices)
    value = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=16)
    taken_on = models.DateField()
    comment = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-taken_on", "-id"]
        base_manager_name = "all_records"
        indexes = [
            models.Index(fields=["patient", "test", "taken_on"]),
            # GET /api/v1/lab-results/ (newest first, current records): the first page walks this
            # index and stops at 50 visible rows, whatever the caseload's size (issue 14).
            models.Index(
                fields=["-taken_on", "-id"],
                condition=Q(entered_in_error_at__isnull=True),
                name="medications_lab_newest",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(test__in=LabTest.values), name="%(app_label)s_%(class)s_test_valid"),
            models.CheckConstraint(condition=Q(value__gte=0), name="%(app_label)s_%(class)s_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"lab result {self.public_id} ({self.test})"


class PatientMedicationProfile(PublicIdModel):
    """What a prescriber documents about a patient that changes the medication rules.

    One row per patient, created on first edit (services.medication_profile_update)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="medication_profile")
    benign_ethnic_neutropenia = models.BooleanField(
        default=False,
        help_text="Documented benign ethnic neutropenia: clozapine uses the BEN ANC bands "
        "(baseline >= 1000/µL; interrupt below 500/µL).",
    )
    hla_b1502_risk_ancestry = models.BooleanField(
        default=False,
        help_text="Ancestry from a population where HLA-B*1502 is common (e.g. Han Chinese, Thai, Malaysian, "
        "Indonesian, Filipino, Indian): genotype before carbamazepine.",
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"medication profile {self.public_id}"


class CriticalSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    SEVERE = "severe", "Severe"


class CriticalResultStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACTIONED = "actioned", "Action recorded"


class CriticalResult(PublicIdModel):
    """A lab value in the critical range (monitoring.critical_finding). Opened in the lab
    result's transaction; stays open, with a banner on the chart, until a prescriber
    records the action taken."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="critical_results")
    lab_result = models.OneToOneField(LabResult, on_delete=models.PROTECT, related_name="critical_result")
    code = models.CharField(max_length=40, help_text="The rule that fired, e.g. “lithium_toxic”.")
    severity = models.CharField(max_length=10, choices=CriticalSeverity.choices)
    message = models.CharField(max_length=300)
    source = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=CriticalResultStatus.choices, default=CriticalResultStatus.OPEN)
    raised_at = models.DateTimeField(default=timezone.now)
    action_taken = BoundedTextField(blank=True, max_length=MEDIUM_TEXT_MAX_LENGTH)
    actioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actioned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=CriticalSeverity.values), name="%(app_label)s_%(class)s_severity_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CriticalResultStatus.values), name="%(app_label)s_%(class)s_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=CriticalResultStatus.OPEN, actioned_at__isnull=True, action_taken="")
                | (
                    Q(status=CriticalResultStatus.ACTIONED, actioned_at__isnull=False, actioned_by__isnull=False)
                    & ~Q(action_taken="")
                ),
                name="%(app_label)s_%(class)s_actioned_has_action",
            ),
        ]

    def __str__(self) -> str:
        return f"critical result {self.public_id} ({self.code}, {self.status})"


class ExceptionKind(models.TextChoices):
    DONE_ELSEWHERE = "done_elsewhere", "Done elsewhere"
    WAIVED = "waived", "Waived"


class MonitoringException(ClinicalRecord):
    """A monitoring test done outside this clinic (date, where) or waived (reason, who), so
    the schedule stops calling it overdue. A waiver answers the item that was pending when
    it was recorded (`due_date`); a test done elsewhere counts like a result on `done_on`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="monitoring_exceptions")
    regimen = models.ForeignKey(Regimen, on_delete=models.PROTECT, related_name="monitoring_exceptions")
    test = models.CharField(max_length=24, choices=LabTest.choices)
    kind = models.CharField(max_length=16, choices=ExceptionKind.choices)
    done_on = models.DateField(null=True, blank=True, help_text="Done elsewhere: the date it was done.")
    due_date = models.DateField(help_text="The due date of the item this answers.")
    reason = models.CharField(max_length=300, help_text="Waived: why. Done elsewhere: where (and any detail).")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-due_date", "-id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["regimen", "test"])]
        constraints = [
            models.CheckConstraint(condition=Q(test__in=LabTest.values), name="%(app_label)s_%(class)s_test_valid"),
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="%(app_label)s_%(class)s_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="%(app_label)s_%(class)s_reason_required"),
            models.CheckConstraint(
                condition=~Q(kind=ExceptionKind.DONE_ELSEWHERE) | Q(done_on__isnull=False),
                name="%(app_label)s_%(class)s_done_elsewhere_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"monitoring exception {self.public_id} ({self.kind})"


class InjectionSite(models.TextChoices):
    DELTOID = "deltoid", "Deltoid"
    GLUTEAL = "gluteal", "Gluteal"


class Injection(ClinicalRecord):
    """A long-acting injection given. The next is due one interval later (INJECTION_INTERVALS)."""

    regimen = models.ForeignKey(Regimen, on_delete=models.PROTECT, related_name="injections")
    given_on = models.DateField()
    dose = models.DecimalField(max_digits=9, decimal_places=3)
    site = models.CharField(max_length=10, choices=InjectionSite.choices)
    observed_until = models.DateTimeField(
        null=True, blank=True, help_text="End of the post-injection observation, where the label asks for one."
    )
    comment = models.CharField(max_length=300, blank=True)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["given_on", "id"]
        base_manager_name = "all_records"
        indexes = [models.Index(fields=["regimen", "given_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(dose__gt=0), name="%(app_label)s_%(class)s_dose_positive"),
            models.CheckConstraint(
                condition=Q(site__in=InjectionSite.values), name="%(app_label)s_%(class)s_site_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"injection {self.public_id}"


class MonitoringNextDue(models.Model):
    """Derived, not clinical: when the daily `monitoring_due` rule next needs to look at an active
    regimen (medications.monitoring_next_due, issue 14). Written by the rule each time it
    evaluates the regimen; a missing or stale row only makes the rule evaluate it again."""

    regimen = models.OneToOneField(
        Regimen, on_delete=models.CASCADE, primary_key=True, related_name="monitoring_next_due"
    )
    # The first day a reminder can come of it: the earliest pending item minus the lead time,
    # capped by the date-driven changes and the regimen's refresh day.
    next_due_on = models.DateField()
    computed_on = models.DateField()
    catalog = models.CharField(max_length=64)  # fingerprint of the rules and catalog it was computed with

    def __str__(self) -> str:
        return f"monitoring of regimen {self.regimen_id} next due {self.next_due_on}"
