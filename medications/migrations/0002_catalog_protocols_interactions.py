"""Ship the medication catalog, the monitoring protocols and the curated interaction rules.

Data, not code: the clinic admin edits all three in the Django admin afterwards. The
values are frozen here (a migration must not import app code that later changes).

Maximum daily doses are the usual adult maxima from the US prescribing information
(DailyMed, section 2 "Dosage and Administration"); where a label gives several, the
source string says which one was taken. A dose above it is allowed with an override
reason (DESIGN.md). Weight-based maxima are converted at 70 kg and say so.
"""

from decimal import Decimal

from django.db import migrations

PI = "US prescribing information"

# name, drug class, unit, max daily dose, source of the maximum, protocol code, level test, target range
CATALOG = [
    # SSRIs
    ("Sertraline", "ssri", "mg", "200", f"{PI} (Zoloft): maximum 200 mg/day", "", "", None),
    ("Fluoxetine", "ssri", "mg", "80", f"{PI} (Prozac): maximum 80 mg/day", "", "", None),
    ("Escitalopram", "ssri", "mg", "20", f"{PI} (Lexapro): maximum 20 mg/day", "", "", None),
    ("Citalopram", "ssri", "mg", "40", f"{PI} (Celexa): maximum 40 mg/day (20 mg over age 60; QT prolongation, FDA 2011/2012)", "", "", None),
    ("Paroxetine", "ssri", "mg", "60", f"{PI} (Paxil): 50 mg/day in depression, 60 mg/day in OCD and panic disorder", "", "", None),
    ("Fluvoxamine", "ssri", "mg", "300", f"{PI} (fluvoxamine maleate tablets, OCD): maximum 300 mg/day", "", "", None),
    # SNRIs
    ("Venlafaxine XR", "snri", "mg", "225", f"{PI} (Effexor XR): maximum 225 mg/day", "", "", None),
    ("Duloxetine", "snri", "mg", "120", f"{PI} (Cymbalta): maximum 120 mg/day (no added benefit above 60 mg shown in MDD)", "", "", None),
    # Other antidepressants
    ("Bupropion XL", "other_antidepressant", "mg", "450", f"{PI} (Wellbutrin XL): maximum 450 mg/day", "", "", None),
    ("Mirtazapine", "other_antidepressant", "mg", "45", f"{PI} (Remeron): maximum 45 mg/day", "", "", None),
    ("Trazodone", "other_antidepressant", "mg", "400", f"{PI} (Desyrel): outpatients up to 400 mg/day (inpatients 600 mg/day)", "", "", None),
    ("Vortioxetine", "other_antidepressant", "mg", "20", f"{PI} (Trintellix): maximum 20 mg/day", "", "", None),
    # Tricyclics
    ("Amitriptyline", "tca", "mg", "150", f"{PI} (amitriptyline tablets): outpatients up to 150 mg/day (hospitalised patients 300 mg/day)", "", "", None),
    ("Nortriptyline", "tca", "mg", "150", f"{PI} (Pamelor): doses above 150 mg/day are not recommended", "", "", None),
    ("Clomipramine", "tca", "mg", "250", f"{PI} (Anafranil): maximum 250 mg/day", "", "", None),
    # MAO inhibitors
    ("Phenelzine", "maoi", "mg", "90", f"{PI} (Nardil): up to 90 mg/day", "", "", None),
    ("Tranylcypromine", "maoi", "mg", "60", f"{PI} (Parnate): maximum 60 mg/day", "", "", None),
    # Anxiolytics
    ("Lorazepam", "anxiolytic", "mg", "10", f"{PI} (Ativan tablets): 1-10 mg/day in divided doses", "", "", None),
    ("Clonazepam", "anxiolytic", "mg", "4", f"{PI} (Klonopin, panic disorder): maximum 4 mg/day", "", "", None),
    ("Diazepam", "anxiolytic", "mg", "40", f"{PI} (Valium, anxiety): 2-10 mg two to four times daily", "", "", None),
    ("Alprazolam", "anxiolytic", "mg", "10", f"{PI} (Xanax): anxiety up to 4 mg/day; panic disorder occasionally up to 10 mg/day", "", "", None),
    ("Buspirone", "anxiolytic", "mg", "60", f"{PI} (BuSpar): maximum 60 mg/day", "", "", None),
    # Mood stabilizers
    ("Lithium carbonate", "mood_stabilizer", "mg", "1800", f"{PI} (lithium carbonate): acute mania 1800 mg/day; maintenance 900-1200 mg/day", "lithium", "lithium_level", ("0.60", "1.00")),
    ("Divalproex sodium (valproate)", "mood_stabilizer", "mg", "4200", f"{PI} (Depakote, mania): maximum 60 mg/kg/day; 4200 mg is that at 70 kg: check the patient's weight", "valproate", "", None),
    ("Lamotrigine", "mood_stabilizer", "mg", "400", f"{PI} (Lamictal, bipolar I): target 200 mg/day; 400 mg/day with carbamazepine or other inducers", "", "", None),
    ("Carbamazepine", "mood_stabilizer", "mg", "1600", f"{PI} (Equetro, bipolar I): maximum 1600 mg/day", "", "", None),
    # Second-generation antipsychotics
    ("Quetiapine", "antipsychotic_sga", "mg", "800", f"{PI} (Seroquel): maximum 800 mg/day", "sga-metabolic", "", None),
    ("Olanzapine", "antipsychotic_sga", "mg", "20", f"{PI} (Zyprexa): maximum 20 mg/day", "sga-metabolic", "", None),
    ("Risperidone", "antipsychotic_sga", "mg", "16", f"{PI} (Risperdal, schizophrenia): doses above 16 mg/day not evaluated", "sga-metabolic", "", None),
    ("Aripiprazole", "antipsychotic_sga", "mg", "30", f"{PI} (Abilify): maximum 30 mg/day", "sga-metabolic", "", None),
    ("Clozapine", "antipsychotic_sga", "mg", "900", f"{PI} (Clozaril): maximum 900 mg/day", "clozapine", "", None),
    ("Ziprasidone", "antipsychotic_sga", "mg", "160", f"{PI} (Geodon): maximum 80 mg twice daily", "sga-metabolic", "", None),
    ("Lurasidone", "antipsychotic_sga", "mg", "160", f"{PI} (Latuda, schizophrenia): maximum 160 mg/day", "sga-metabolic", "", None),
    ("Paliperidone ER", "antipsychotic_sga", "mg", "12", f"{PI} (Invega): maximum 12 mg/day", "sga-metabolic", "", None),
    ("Cariprazine", "antipsychotic_sga", "mg", "6", f"{PI} (Vraylar): maximum 6 mg/day", "sga-metabolic", "", None),
    # First-generation antipsychotic
    ("Haloperidol", "antipsychotic_fga", "mg", "100", f"{PI} (haloperidol tablets): up to 100 mg/day in severe, resistant cases", "", "", None),
    # Hypnotics
    ("Zolpidem", "hypnotic", "mg", "10", f"{PI} (Ambien): maximum 10 mg once nightly (5 mg recommended for women)", "", "", None),
    ("Eszopiclone", "hypnotic", "mg", "3", f"{PI} (Lunesta): maximum 3 mg once nightly", "", "", None),
    # Stimulants
    ("Methylphenidate", "stimulant", "mg", "60", f"{PI} (Ritalin): maximum 60 mg/day", "", "", None),
    ("Lisdexamfetamine", "stimulant", "mg", "70", f"{PI} (Vyvanse): maximum 70 mg/day", "", "", None),
    ("Amphetamine mixed salts", "stimulant", "mg", "40", f"{PI} (Adderall, ADHD): rarely necessary to exceed 40 mg/day", "", "", None),
    # Non-psychotropic drugs the interaction rules name
    ("Ibuprofen", "other", "mg", "3200", f"{PI} (Motrin): maximum 3200 mg/day", "", "", None),
    ("Naproxen", "other", "mg", "1500", f"{PI} (Naprosyn): up to 1500 mg/day for limited periods", "", "", None),
    ("Lisinopril", "other", "mg", "80", f"{PI} (Zestril, hypertension): maximum 80 mg/day", "", "", None),
    ("Enalapril", "other", "mg", "40", f"{PI} (Vasotec, hypertension): maximum 40 mg/day", "", "", None),
    ("Hydrochlorothiazide", "other", "mg", "50", f"{PI} (hydrochlorothiazide, hypertension): maximum 50 mg/day", "", "", None),
    ("Tramadol", "other", "mg", "400", f"{PI} (Ultram): maximum 400 mg/day", "", "", None),
    ("Methimazole", "other", "mg", "60", f"{PI} (Tapazole): severe hyperthyroidism up to 60 mg/day", "", "", None),
]

NICE_LITHIUM_TARGET = ("NICE CG185 (2014) 0.6-1.0 mmol/L, audited by Nikolova et al. 2018 (PMID 29552933); "
                       "QS95: below 0.6 ineffective, above 0.8 more toxicity")

ADA_2004 = ("ADA/APA/AACE/NAASO consensus, Diabetes Care 2004;27:596-601, doi 10.2337/diacare.27.2.596 "
            "(monitoring table, CLINICAL.md b6)")
SPS_LITHIUM = ("UK NHS Specialist Pharmacy Service, Lithium monitoring (https://sps.nhs.uk/monitorings/lithium-monitoring); "
               "NICE CG185 2014 (CLINICAL.md b7)")
CLOZAPINE_PI = ("Clozapine US prescribing information, ANC monitoring table as tabulated in PMC9243911 Table 6 "
                "(CLINICAL.md b8)")
SPS_VALPROATE = ("UK NHS Specialist Pharmacy Service, valproate monitoring (https://sps.nhs.uk/?p=62811); "
                 "US label boxed warning: hepatotoxicity usually in the first 6 months (CLINICAL.md b9)")

# (test, kind, offset_days, interval_days, until_day, window_days, rule, label)
SGA_STEPS = [
    ("bmi", "once", 0, None, None, 30, "", "Baseline"),
    ("bmi", "once", 28, None, None, 7, "", "Week 4"),
    ("bmi", "once", 56, None, None, 7, "", "Week 8"),
    ("bmi", "once", 84, None, None, 7, "", "Week 12"),
    ("bmi", "repeat", 84, 91, None, 14, "", "Quarterly"),
    ("waist", "once", 0, None, None, 30, "", "Baseline"),
    ("waist", "repeat", 0, 365, None, 30, "", "Annually"),
    ("bp_systolic", "once", 0, None, None, 30, "", "Baseline"),
    ("bp_systolic", "once", 84, None, None, 7, "", "Week 12"),
    ("bp_systolic", "repeat", 0, 365, None, 30, "", "Annually"),
    ("fasting_glucose", "once", 0, None, None, 30, "", "Baseline"),
    ("fasting_glucose", "once", 84, None, None, 7, "", "Week 12"),
    ("fasting_glucose", "repeat", 0, 365, None, 30, "", "Annually"),
    ("fasting_lipids", "once", 0, None, None, 30, "", "Baseline"),
    ("fasting_lipids", "once", 84, None, None, 7, "", "Week 12"),
    ("fasting_lipids", "repeat", 0, 1826, None, 30, "", "Every 5 years"),
]

LITHIUM_STEPS = [
    *[(test, "once", 0, None, None, 30, "", "Before starting")
      for test in ("egfr", "creatinine", "tsh", "calcium", "fbc", "bmi")],
    ("lithium_level", "after_dose_change", 7, 7, None, 2, "until_in_range",
     "1 week after the start or a dose change, then weekly until in range"),
    ("lithium_level", "repeat", 0, 91, 365, 14, "", "Every 3 months in the first year"),
    ("lithium_level", "repeat", 365, 182, None, 14, "", "Every 6 months once stable"),
    *[(test, "repeat", 0, 182, None, 14, "", "Every 6 months")
      for test in ("bmi", "egfr", "calcium", "tsh", "creatinine")],
]

CLOZAPINE_STEPS = [
    ("anc", "once", 0, None, None, 10, "", "Baseline ANC before starting"),
    ("anc", "repeat", 0, 7, 182, 1, "clozapine_anc_bands", "Weekly for the first 6 months"),
    ("anc", "repeat", 182, 14, 364, 2, "clozapine_anc_bands", "Every 2 weeks, months 6-12"),
    ("anc", "repeat", 364, 28, None, 3, "clozapine_anc_bands", "Monthly after 12 months"),
    *SGA_STEPS,
]

VALPROATE_STEPS = [
    *[(test, "once", 0, None, None, 30, "", "Before starting")
      for test in ("bmi", "inr", "fbc", "platelets", "lft")],
    ("lft", "repeat", 0, 30, 182, 7, "", "Monthly for the first 6 months (until stable)"),
    *[(test, "once", 182, None, None, 14, "", "At 6 months") for test in ("bmi", "fbc", "platelets", "lft")],
    *[(test, "repeat", 182, 365, None, 30, "", "Annually") for test in ("bmi", "fbc", "platelets", "lft")],
]

PROTOCOLS = [
    ("sga-metabolic", "Second-generation antipsychotic metabolic monitoring",
     "Weight/BMI at baseline, weeks 4, 8 and 12, then quarterly; waist at baseline and annually; blood "
     "pressure, fasting glucose at baseline, week 12 and annually; fasting lipids at baseline, week 12 and "
     "every 5 years. Personal/family history is reviewed at baseline and annually at the visit. "
     "More frequent assessment may be warranted by clinical status.",
     ADA_2004, SGA_STEPS),
    ("lithium", "Lithium",
     "Before starting: eGFR, U&E, thyroid function, calcium, full blood count, BMI (ECG if cardiovascular "
     "risk; exclude pregnancy). Lithium level (trough, 12 h after the last dose) 1 week after starting and "
     "after every dose change, weekly until within the patient's target range, then every 3 months for "
     "the first year and every 6 months after; weight/BMI, eGFR, calcium, TFTs and U&E every 6 months. "
     "Toxicity from about 1.5 mmol/L.",
     SPS_LITHIUM, LITHIUM_STEPS),
    ("clozapine", "Clozapine (ANC and metabolic)",
     "ANC at baseline, weekly for 6 months, every 2 weeks from 6 to 12 months, monthly after. Mild "
     "neutropenia (1000-1499/µL): three times weekly until >= 1500. Moderate (500-999): interrupt, "
     "daily until >= 1000, three times weekly until >= 1500, weekly for 4 weeks. Severe (< 500): "
     "interrupt, daily until >= 1000, three times weekly until >= 1500; a rechallenge is monitored as a "
     "new patient. Confirm a first ANC below 1500 within 24 hours. Plus the second-generation "
     "antipsychotic metabolic schedule.",
     f"{CLOZAPINE_PI}; {ADA_2004}", CLOZAPINE_STEPS),
    ("valproate", "Valproate",
     "Before starting: BMI, clotting screen, full blood count, platelets, LFTs (and a pregnancy test under "
     "the Pregnancy Prevention Programme). LFTs until stable (taken here as monthly for the first 6 "
     "months, when hepatotoxicity usually occurs), then BMI, FBC and LFTs at 6 months and annually. "
     "Routine plasma valproate levels are not useful (BNF).",
     SPS_VALPROATE, VALPROATE_STEPS),
]

MAOI_LABEL = "Nardil and Parnate US prescribing information, Contraindications"
# (side a: ("drug", name) or ("class", code), side b, severity, risk, advice, source)
INTERACTIONS = [
    (("class", "maoi"), ("class", "ssri"), "contraindicated", "Serotonin syndrome (can be fatal)",
     "Do not combine; allow a washout (5 weeks after fluoxetine, 2 weeks after other SSRIs or the MAOI).",
     MAOI_LABEL),
    (("class", "maoi"), ("class", "snri"), "contraindicated", "Serotonin syndrome (can be fatal)",
     "Do not combine; allow at least 2 weeks between them (7 days after stopping venlafaxine).",
     MAOI_LABEL),
    (("class", "maoi"), ("class", "tca"), "contraindicated",
     "Serotonin syndrome and hypertensive crisis (clomipramine especially)",
     "Do not combine outside specialist care; allow a 2-week washout.", MAOI_LABEL),
    (("class", "maoi"), ("class", "maoi"), "contraindicated", "Hypertensive crisis and serotonin syndrome",
     "Do not combine two MAO inhibitors; allow a 2-week washout when switching.", MAOI_LABEL),
    (("class", "maoi"), ("drug", "Vortioxetine"), "contraindicated", "Serotonin syndrome",
     "Do not combine; 14 days after stopping the MAOI, 21 days after stopping vortioxetine.",
     "Trintellix US prescribing information, Contraindications"),
    (("class", "maoi"), ("drug", "Mirtazapine"), "contraindicated", "Serotonin syndrome",
     "Do not combine; allow 14 days between them.", "Remeron US prescribing information, Contraindications"),
    (("class", "maoi"), ("drug", "Trazodone"), "major", "Serotonin syndrome",
     "Avoid; allow 14 days between them.", "Desyrel US prescribing information, Contraindications"),
    (("class", "maoi"), ("drug", "Buspirone"), "major", "Elevated blood pressure",
     "Avoid the combination.", "BuSpar US prescribing information, Drug interactions"),
    (("class", "maoi"), ("drug", "Bupropion XL"), "contraindicated", "Hypertensive reactions",
     "Do not combine; allow 14 days after stopping the MAOI.",
     "Wellbutrin XL US prescribing information, Contraindications"),
    (("class", "maoi"), ("class", "stimulant"), "contraindicated", "Hypertensive crisis",
     "Do not use a stimulant with or within 14 days of an MAOI.",
     "Ritalin, Vyvanse and Adderall US prescribing information, Contraindications"),
    (("class", "maoi"), ("drug", "Tramadol"), "contraindicated", "Serotonin syndrome and seizures",
     "Do not combine.", "Ultram US prescribing information, Contraindications"),
    (("class", "maoi"), ("drug", "Lithium carbonate"), "major", "Serotonin syndrome",
     "Avoid unless a specialist decides otherwise; monitor closely.",
     "Lithium US prescribing information, Drug interactions (serotonergic drugs)"),
    (("drug", "Lithium carbonate"), ("drug", "Ibuprofen"), "major",
     "Lithium toxicity: NSAIDs raise lithium levels",
     "Avoid; if unavoidable, check the lithium level more often.",
     "Lithium US prescribing information, Drug interactions (NSAIDs); NHS SPS lithium monitoring"),
    (("drug", "Lithium carbonate"), ("drug", "Naproxen"), "major",
     "Lithium toxicity: NSAIDs raise lithium levels",
     "Avoid; if unavoidable, check the lithium level more often.",
     "Lithium US prescribing information, Drug interactions (NSAIDs); NHS SPS lithium monitoring"),
    (("drug", "Lithium carbonate"), ("drug", "Lisinopril"), "major",
     "Lithium toxicity: ACE inhibitors raise lithium levels",
     "Avoid; if unavoidable, check the lithium level and renal function more often.",
     "Lithium US prescribing information, Drug interactions (ACE inhibitors)"),
    (("drug", "Lithium carbonate"), ("drug", "Enalapril"), "major",
     "Lithium toxicity: ACE inhibitors raise lithium levels",
     "Avoid; if unavoidable, check the lithium level and renal function more often.",
     "Lithium US prescribing information, Drug interactions (ACE inhibitors)"),
    (("drug", "Lithium carbonate"), ("drug", "Hydrochlorothiazide"), "major",
     "Lithium toxicity: thiazide diuretics reduce lithium clearance",
     "Avoid; if unavoidable, reduce the lithium dose and check the level more often.",
     "Lithium US prescribing information, Drug interactions (diuretics)"),
    (("drug", "Clozapine"), ("drug", "Carbamazepine"), "contraindicated",
     "Agranulocytosis: both can suppress the bone marrow",
     "Do not combine clozapine with drugs with a substantial potential to cause agranulocytosis.",
     "Clozaril UK Summary of Product Characteristics, sections 4.3 and 4.5"),
    (("drug", "Clozapine"), ("drug", "Methimazole"), "major",
     "Agranulocytosis: both can cause neutropenia",
     "Avoid; if unavoidable, monitor the ANC more often.",
     "Clozaril UK Summary of Product Characteristics, section 4.5; Tapazole US prescribing information"),
]


def _step(protocol, position, row, MonitoringStep):  # type: ignore[no-untyped-def]
    test, kind, offset, interval, until, window, rule, label = row
    return MonitoringStep(protocol=protocol, position=position, test=test, kind=kind, offset_days=offset,
                          interval_days=interval, until_day=until, window_days=window, rule=rule, label=label)


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    MonitoringProtocol = apps.get_model("medications", "MonitoringProtocol")
    MonitoringStep = apps.get_model("medications", "MonitoringStep")
    Medication = apps.get_model("medications", "Medication")
    InteractionRule = apps.get_model("medications", "InteractionRule")
    protocols = {}
    for code, name, description, source, steps in PROTOCOLS:
        protocol = MonitoringProtocol.objects.create(code=code, name=name, description=description, source=source)
        MonitoringStep.objects.bulk_create(
            [_step(protocol, position, row, MonitoringStep) for position, row in enumerate(steps)]
        )
        protocols[code] = protocol
    medications = {}
    for name, drug_class, unit, max_dose, source, protocol, level_test, target in CATALOG:
        medications[name] = Medication.objects.create(
            name=name, drug_class=drug_class, unit=unit, max_daily_dose=Decimal(max_dose), max_dose_source=source,
            monitoring_protocol=protocols.get(protocol), level_test=level_test,
            target_level_low=Decimal(target[0]) if target else None,
            target_level_high=Decimal(target[1]) if target else None,
            target_level_source=NICE_LITHIUM_TARGET if target else "",
        )
    for side_a, side_b, severity, risk, advice, source in INTERACTIONS:
        fields = {}
        for suffix, (kind, value) in (("a", side_a), ("b", side_b)):
            if kind == "drug":
                fields[f"medication_{suffix}"] = medications[value]
            else:
                fields[f"drug_class_{suffix}"] = value
        InteractionRule.objects.create(severity=severity, risk=risk, advice=advice, source=source, **fields)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Empty the catalog load() filled. Raw deletes: in a reverse migration Django's deletion
    collector trips over the historical models (`Cannot query "Medication object (1)": Must be
    "Medication" instance`); the order below is the one the foreign keys need.

    Refused while a regimen uses a catalog drug: the catalog cannot go without the record, and
    load() (plain creates) could not run again over drugs left behind."""
    if apps.get_model("medications", "Regimen").objects.exists():
        raise RuntimeError("Regimens use the medication catalog: it cannot be unloaded.")
    for name in ("InteractionRule", "Medication", "MonitoringStep", "MonitoringProtocol"):
        rows = apps.get_model("medications", name).objects.all()
        rows._raw_delete(rows.db)


class Migration(migrations.Migration):
    dependencies = [("medications", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
