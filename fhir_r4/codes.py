"""Code systems and the maps from Tandem's choices to FHIR R4 codes (issue 18).

Sources: LOINC (https://loinc.org) for the instruments and labs; SNOMED CT route codes
(FHIR R4 value set `route-codes`); HL7 v3 ActCode for Encounter.class; ICD-10-CM
(http://hl7.org/fhir/sid/icd-10-cm); RxNorm (http://www.nlm.nih.gov/research/umls/rxnorm)
ingredient codes from the medication catalog (medications migration 0006).
"""

from decimal import Decimal

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
# Tandem's own code systems (not standard terminologies).
MRN_SYSTEM = "urn:tandem:mrn"
TANDEM = "urn:tandem:codes"
TEAM_ROLE_SYSTEM = f"{TANDEM}:care-team-role"
MODALITY_SYSTEM = f"{TANDEM}:therapy-modality"
ATTENDANCE_SYSTEM = f"{TANDEM}:attendance"
INSTRUMENT_SYSTEM = f"{TANDEM}:instrument"
DOSE_REASON_SYSTEM = f"{TANDEM}:dose-reason"
REGIMEN_SYSTEM = f"{TANDEM}:regimen"

ROUTES = {
    "oral": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "transdermal": ("45890007", "Transdermal route"),
}
ROUTE_BY_SNOMED = {code: route for route, (code, _) in ROUTES.items()}

# Regimen.frequency -> Timing.repeat (frequency, period, periodUnit, when).
TIMING: dict[str, tuple[int, Decimal, str, str | None]] = {
    "once_daily": (1, Decimal(1), "d", None),
    "every_morning": (1, Decimal(1), "d", "MORN"),
    "at_bedtime": (1, Decimal(1), "d", "HS"),
    "twice_daily": (2, Decimal(1), "d", None),
    "three_times_daily": (3, Decimal(1), "d", None),
    "four_times_daily": (4, Decimal(1), "d", None),
    # Long-acting injectables: one injection per interval.
    "every_2_weeks": (1, Decimal(2), "wk", None),
    "every_4_weeks": (1, Decimal(4), "wk", None),
    "monthly": (1, Decimal(1), "mo", None),
    "every_3_months": (1, Decimal(3), "mo", None),
    "every_6_months": (1, Decimal(6), "mo", None),
}
UCUM_DOSE = {"mg": "mg", "mcg": "ug"}

# LabTest -> (LOINC code, display, UCUM unit, category).
LABS: dict[str, tuple[str, str, str, str]] = {
    "lithium_level": ("14334-7", "Lithium [Moles/volume] in Serum or Plasma", "mmol/L", "laboratory"),
    "anc": ("751-8", "Neutrophils [#/volume] in Blood by Automated count", "/uL", "laboratory"),
    "fbc": ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*9/L", "laboratory"),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L", "laboratory"),
    "lft": ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", "laboratory"),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", "laboratory"),
    "egfr": ("62238-1", "Glomerular filtration rate/1.73 sq M.predicted [CKD-EPI]", "mL/min/{1.73_m2}", "laboratory"),
    "creatinine": ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "umol/L", "laboratory"),
    "tsh": ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", "laboratory"),
    "calcium": ("29265-6", "Calcium [Moles/volume] corrected for albumin in Serum or Plasma", "mmol/L", "laboratory"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "vital-signs"),
    "waist": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "cm", "vital-signs"),
    "bp_systolic": ("8480-6", "Systolic blood pressure", "mm[Hg]", "vital-signs"),
    "fasting_glucose": ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    "fasting_lipids": ("2089-1", "Cholesterol in LDL [Mass/volume] in Serum or Plasma", "mg/dL", "laboratory"),
    "weight": ("29463-7", "Body weight", "kg", "vital-signs"),
    "sodium": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "laboratory"),
    "qtc": ("8636-3", "Q-T interval corrected", "ms", "procedure"),
    "pregnancy_test": ("2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine", "", "laboratory"),
}
LAB_BY_LOINC = {loinc: test for test, (loinc, _, _, _) in LABS.items()}
# Typical adult reference ranges (low, high; None = open) where no drug target applies.
# Source: the units and thresholds Tandem's monitoring protocols already use (CLINICAL.md).
REFERENCE_RANGES: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "anc": (Decimal(1500), None),
    "fbc": (Decimal("4.0"), Decimal("11.0")),
    "platelets": (Decimal(150), Decimal(400)),
    "sodium": (Decimal(135), Decimal(145)),
    "tsh": (Decimal("0.4"), Decimal("4.0")),
    "calcium": (Decimal("2.2"), Decimal("2.6")),
    "egfr": (Decimal(60), None),
    "qtc": (None, Decimal(450)),
    "fasting_glucose": (Decimal(70), Decimal(99)),
}
POSITIVE = ("10828004", "Positive")
NEGATIVE = ("260385009", "Negative")
