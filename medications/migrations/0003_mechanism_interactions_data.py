"""Interactions from mechanisms: the drugs' properties as data, class rules that combine them,
pair rules for what a label singles out, washout windows and patient-specific dose limits.

Data, not code: the clinic admin edits all of it in the Django admin afterwards. The values are
frozen here (a migration must not import app code that later changes). Still a small curated
table, NOT a complete interaction database (README; CLINICAL.md b10).

The 19 rules 0002 shipped are replaced by the rules below (each now with a stable code); a rule
a clinic admin added meanwhile is kept and given the code `custom-<id>`.

Sources, abbreviated in the rows:
- FDA_DDI: FDA, "Drug Development and Drug Interactions: Table of Substrates, Inhibitors and
  Inducers" (clinical index drugs: strong / moderate inhibitors and inducers, sensitive and
  moderate sensitive substrates).
- CREDIBLEMEDS: CredibleMeds QTdrugs list (Known / Possible / Conditional risk of torsades).
- ACB: Anticholinergic Cognitive Burden scale (Boustani et al. 2008, 2012 update), score 3.
- PI: the drug's US prescribing information, section named.
"""

from decimal import Decimal

from django.db import migrations

PI = "US prescribing information"
FDA_DDI = "FDA Table of Substrates, Inhibitors and Inducers"
CM = "CredibleMeds QTdrugs list"
ACB = "Anticholinergic Cognitive Burden scale, score 3"
MAOI_LABELS = "Nardil and Parnate US prescribing information, section 4 (Contraindications)"
SEROTONIN_CLASS = "SSRI, SNRI and TCA US prescribing information, sections 4 and 5 (serotonin syndrome)"
FDA_LINEZOLID = (
    "FDA Drug Safety Communication 2011 (linezolid, IV methylene blue with serotonergic psychiatric drugs); "
    "SSRI/SNRI labels, section 4"
)
FDA_OPIOID_BENZO = "FDA Drug Safety Communication 2016: boxed warning, opioids with benzodiazepines or other CNS depressants"

# name, drug class, unit, max daily dose, source of the maximum
NEW_DRUGS = [
    ("Oxycodone", "other", "mg", "60", "CDC Clinical Practice Guideline for Prescribing Opioids for Pain 2022: justify 90 MME/day or more (oxycodone 1.5 MME/mg = 60 mg)"),
    ("Methadone", "other", "mg", "120", f"{PI} (Dolophine, opioid addiction): clinical stability usually at 80-120 mg/day"),
    ("Linezolid", "other", "mg", "1200", f"{PI} (Zyvox): 600 mg every 12 hours"),
    ("Methylene blue", "other", "mg", "140", f"{PI} (ProvayBlue): 1 mg/kg IV, repeat to a total of 2 mg/kg; 140 mg is that at 70 kg"),
    ("Ondansetron", "other", "mg", "24", f"{PI} (Zofran tablets): 24 mg/day for highly emetogenic chemotherapy"),
    ("Sumatriptan", "other", "mg", "200", f"{PI} (Imitrex tablets): maximum 200 mg in 24 hours"),
    ("Dextromethorphan", "other", "mg", "120", "FDA OTC cough monograph (21 CFR 341.74): 30 mg every 6-8 hours, at most 120 mg in 24 hours"),
    ("Ciprofloxacin", "other", "mg", "1500", f"{PI} (Cipro tablets): up to 750 mg every 12 hours"),
    ("Clarithromycin", "other", "mg", "1000", f"{PI} (Biaxin): 500 mg every 12 hours"),
    ("Fluconazole", "other", "mg", "400", f"{PI} (Diflucan): usually up to 400 mg/day (higher in specific infections)"),
    ("Ketoconazole", "other", "mg", "400", f"{PI} (ketoconazole tablets): up to 400 mg once daily"),
    ("Rifampicin", "other", "mg", "600", f"{PI} (Rifadin, tuberculosis): maximum 600 mg/day"),
    ("Omeprazole", "other", "mg", "40", f"{PI} (Prilosec): 20-40 mg/day outside hypersecretory conditions"),
    ("Warfarin", "other", "mg", "10", f"{PI} (Coumadin): most patients are maintained on 2-10 mg/day (INR-guided)"),
    ("Ethinylestradiol/levonorgestrel (combined oral contraceptive)", "other", "mcg", "35", "Combined oral contraceptive labels: ethinylestradiol 20-35 mcg/day (dose here is the estrogen)"),
    ("Losartan", "other", "mg", "100", f"{PI} (Cozaar, hypertension): maximum 100 mg/day"),
]

# Washout before an MAOI, or after one (CLINICAL.md b11): name, days, source
WASHOUT = [
    ("Fluoxetine", 35, f"{PI} (Prozac), sections 2 and 4: at least 5 weeks after stopping before an MAOI"),
    ("Sertraline", 14, f"{PI} (Zoloft), section 4: 14 days"),
    ("Paroxetine", 14, f"{PI} (Paxil), section 4: 14 days"),
    ("Citalopram", 14, f"{PI} (Celexa), section 4: 14 days"),
    ("Escitalopram", 14, f"{PI} (Lexapro), section 4: 14 days"),
    ("Fluvoxamine", 14, f"{PI} (fluvoxamine maleate), section 4: 14 days"),
    ("Venlafaxine XR", 7, f"{PI} (Effexor XR), section 4: at least 7 days after stopping"),
    ("Duloxetine", 5, f"{PI} (Cymbalta), section 4: at least 5 days after stopping"),
    ("Vortioxetine", 21, f"{PI} (Trintellix), section 4: 21 days after stopping"),
    ("Bupropion XL", 14, f"{PI} (Wellbutrin XL), section 4: 14 days"),
    ("Mirtazapine", 14, f"{PI} (Remeron), section 4: 14 days"),
    ("Trazodone", 14, f"{PI} (Desyrel), section 4: 14 days"),
    ("Amitriptyline", 14, f"{PI} (amitriptyline), section 4: 14 days"),
    ("Nortriptyline", 14, f"{PI} (Pamelor), section 4: 14 days"),
    ("Clomipramine", 14, f"{PI} (Anafranil), section 4: 14 days"),
    ("Phenelzine", 14, "Nardil US prescribing information: 14 days before any serotonergic drug, bupropion, stimulant or another MAOI"),
    ("Tranylcypromine", 14, "Parnate US prescribing information: 14 days before any serotonergic drug, bupropion, stimulant or another MAOI"),
    ("Linezolid", 1, "FDA Drug Safety Communication 2011: the antidepressant may restart 24 hours after the last linezolid dose"),
    ("Methylene blue", 1, "FDA Drug Safety Communication 2011: the antidepressant may restart 24 hours after the last methylene blue dose"),
]

# Properties: drug -> [(property, source)]
SER = ("serotonergic", SEROTONIN_CLASS)
SRI = ("sri", "SSRI/SNRI US prescribing information, section 5 (abnormal bleeding)")
CNS = ("cns_depressant", FDA_OPIOID_BENZO)
BENZO = ("benzodiazepine", "Benzodiazepine class labeling (FDA 2016, 2020 boxed warnings)")


def _qt(tier):  # type: ignore[no-untyped-def]
    return (f"qt_{tier}", f"{CM}: {tier} risk")


PROPERTIES = {
    "Sertraline": [SER, SRI, _qt("conditional")],
    "Fluoxetine": [SER, SRI, _qt("conditional"), ("cyp2d6_inhibitor_strong", FDA_DDI)],
    "Escitalopram": [SER, SRI, _qt("known")],
    "Citalopram": [SER, SRI, _qt("known")],
    "Paroxetine": [SER, SRI, _qt("conditional"), ("cyp2d6_inhibitor_strong", FDA_DDI), ("anticholinergic_high", ACB)],
    "Fluvoxamine": [SER, SRI, ("cyp1a2_inhibitor_strong", FDA_DDI), ("cyp3a4_inhibitor_moderate", FDA_DDI)],
    "Venlafaxine XR": [SER, SRI, _qt("possible")],
    "Duloxetine": [SER, SRI, ("cyp2d6_inhibitor_moderate", FDA_DDI), ("cyp1a2_substrate_sensitive", FDA_DDI)],
    "Bupropion XL": [
        ("cyp2d6_inhibitor_strong", FDA_DDI),
        ("lowers_seizure_threshold", f"{PI} (Wellbutrin XL), section 5 (seizures)"),
    ],
    "Mirtazapine": [SER, _qt("possible"), CNS],
    "Trazodone": [SER, _qt("conditional"), CNS],
    "Vortioxetine": [SER, SRI],
    "Amitriptyline": [
        SER, _qt("conditional"), CNS, ("anticholinergic_high", ACB),
        ("lowers_seizure_threshold", f"{PI} (amitriptyline), section 5"),
    ],
    "Nortriptyline": [
        SER, _qt("conditional"), ("anticholinergic_high", ACB), ("cyp2d6_substrate_sensitive", FDA_DDI),
        ("lowers_seizure_threshold", f"{PI} (Pamelor), warnings"),
    ],
    "Clomipramine": [
        SER, SRI, _qt("conditional"), CNS, ("anticholinergic_high", ACB),
        ("lowers_seizure_threshold", f"{PI} (Anafranil), section 5 (dose-related seizures)"),
    ],
    "Phenelzine": [("mao_inhibitor", MAOI_LABELS)],
    "Tranylcypromine": [("mao_inhibitor", MAOI_LABELS)],
    "Lorazepam": [BENZO, CNS, ("ugt_substrate", f"{PI} (Ativan), section 7 (glucuronidation; valproate)")],
    "Clonazepam": [BENZO, CNS],
    "Diazepam": [BENZO, CNS],
    "Alprazolam": [BENZO, CNS, ("cyp3a4_substrate_moderate", FDA_DDI)],
    "Buspirone": [("cyp3a4_substrate_sensitive", FDA_DDI)],
    "Lithium carbonate": [
        ("serotonergic", f"{PI} (lithium), section 7 (serotonin syndrome with serotonergic drugs)"),
        _qt("possible"),
    ],
    "Divalproex sodium (valproate)": [
        ("ugt_inhibitor", f"{PI} (Lamictal), section 2 and 7 (valproate inhibits lamotrigine glucuronidation)"),
        ("pregnancy_prevention", "MHRA valproate Pregnancy Prevention Programme (PREVENT); Depakote US PI boxed warning"),
    ],
    "Lamotrigine": [("ugt_substrate", f"{PI} (Lamictal), section 12.3 (cleared by glucuronidation)")],
    "Carbamazepine": [
        ("cyp3a4_inducer_strong", FDA_DDI),
        ("ugt_inducer", f"{PI} (Lamictal), section 2 (carbamazepine induces glucuronidation)"),
        ("neutropenia_risk", f"{PI} (Tegretol), boxed warning (aplastic anemia and agranulocytosis)"),
    ],
    "Quetiapine": [
        ("cyp3a4_substrate_sensitive", FDA_DDI), CNS, _qt("conditional"), ("anticholinergic_high", ACB),
    ],
    "Olanzapine": [
        ("cyp1a2_substrate_moderate", f"{PI} (Zyprexa), sections 7 and 12.3 (CYP1A2; smoking and fluvoxamine)"),
        CNS, ("anticholinergic_high", ACB),
    ],
    "Risperidone": [_qt("conditional")],
    "Aripiprazole": [
        ("cyp2d6_substrate_moderate", f"{PI} (Abilify), section 2.7 (half dose with strong CYP2D6 inhibitors)"),
        ("cyp3a4_substrate_moderate", f"{PI} (Abilify), section 2.7 (half dose with strong CYP3A4 inhibitors)"),
    ],
    "Clozapine": [
        ("cyp1a2_substrate_moderate", FDA_DDI),
        ("neutropenia_risk", f"{PI} (Clozaril), boxed warning (severe neutropenia)"),
        ("lowers_seizure_threshold", f"{PI} (Clozaril), boxed warning (seizures)"),
        ("anticholinergic_high", ACB), CNS, _qt("possible"),
    ],
    "Ziprasidone": [_qt("possible")],
    "Lurasidone": [("cyp3a4_substrate_sensitive", FDA_DDI)],
    "Paliperidone ER": [_qt("possible")],
    "Cariprazine": [("cyp3a4_substrate_moderate", f"{PI} (Vraylar), section 2 (strong CYP3A4 inhibitors and inducers)")],
    "Haloperidol": [_qt("known")],
    "Zolpidem": [CNS, ("cyp3a4_substrate_moderate", f"{PI} (Ambien), section 7 (ketoconazole)")],
    "Eszopiclone": [CNS, ("cyp3a4_substrate_moderate", f"{PI} (Lunesta), section 2 (strong CYP3A4 inhibitors)")],
    "Ibuprofen": [
        ("reduces_lithium_clearance", f"{PI} (lithium), section 7 (NSAIDs)"),
        ("bleeding_risk", f"{PI} (Motrin), boxed warning (GI bleeding)"),
    ],
    "Naproxen": [
        ("reduces_lithium_clearance", f"{PI} (lithium), section 7 (NSAIDs)"),
        ("bleeding_risk", f"{PI} (Naprosyn), boxed warning (GI bleeding)"),
    ],
    "Lisinopril": [("reduces_lithium_clearance", f"{PI} (lithium), section 7 (ACE inhibitors)")],
    "Enalapril": [("reduces_lithium_clearance", f"{PI} (lithium), section 7 (ACE inhibitors)")],
    "Losartan": [("reduces_lithium_clearance", f"{PI} (lithium), section 7 (angiotensin receptor blockers)")],
    "Hydrochlorothiazide": [("reduces_lithium_clearance", f"{PI} (lithium), section 7 (diuretics)")],
    "Tramadol": [
        ("serotonergic", f"{PI} (Ultram), section 5 (serotonin syndrome)"),
        ("lowers_seizure_threshold", f"{PI} (Ultram), section 5 (seizure risk)"),
        ("respiratory_depressant", FDA_OPIOID_BENZO), CNS,
        ("cyp2d6_substrate_moderate", FDA_DDI),
    ],
    "Oxycodone": [
        ("respiratory_depressant", FDA_OPIOID_BENZO), CNS,
        ("cyp3a4_substrate_moderate", f"{PI} (OxyContin), boxed warning (CYP3A4 inhibitors)"),
    ],
    "Methadone": [
        ("respiratory_depressant", FDA_OPIOID_BENZO), CNS, _qt("known"),
        ("serotonergic", f"{PI} (Dolophine), section 5 (serotonin syndrome)"),
    ],
    "Methimazole": [("neutropenia_risk", f"{PI} (Tapazole), warnings (agranulocytosis)")],
    "Linezolid": [("mao_inhibitor", f"{PI} (Zyvox), sections 4 and 5 (reversible MAO inhibitor)")],
    "Methylene blue": [("mao_inhibitor", f"{PI} (ProvayBlue), boxed warning (MAO-A inhibitor)")],
    "Ondansetron": [("serotonergic", f"{PI} (Zofran), section 5 (serotonin syndrome)"), _qt("known")],
    "Sumatriptan": [("serotonergic", "FDA Public Health Advisory 2006 (triptans with SSRIs/SNRIs); Imitrex PI section 5")],
    "Dextromethorphan": [
        ("serotonergic", "Dextromethorphan OTC labeling: do not use with or within 2 weeks of an MAOI"),
        ("cyp2d6_substrate_sensitive", FDA_DDI),
    ],
    "Ciprofloxacin": [
        ("cyp1a2_inhibitor_strong", FDA_DDI), ("cyp3a4_inhibitor_moderate", FDA_DDI), _qt("known"),
        ("lowers_seizure_threshold", f"{PI} (Cipro), section 5 (CNS effects, seizures)"),
    ],
    "Clarithromycin": [("cyp3a4_inhibitor_strong", FDA_DDI), _qt("known")],
    "Fluconazole": [("cyp3a4_inhibitor_moderate", FDA_DDI), _qt("known")],
    "Ketoconazole": [("cyp3a4_inhibitor_strong", FDA_DDI)],
    "Rifampicin": [
        ("cyp3a4_inducer_strong", FDA_DDI), ("cyp1a2_inducer_moderate", FDA_DDI),
        ("ugt_inducer", f"{PI} (Lamictal), section 2 (rifampin)"),
    ],
    "Warfarin": [("bleeding_risk", f"{PI} (Coumadin), boxed warning (bleeding)")],
    "Ethinylestradiol/levonorgestrel (combined oral contraceptive)": [
        ("cyp1a2_inhibitor_moderate", FDA_DDI),
        ("ugt_inducer", f"{PI} (Lamictal), section 2.1 (estrogen-containing oral contraceptives)"),
    ],
    "Amphetamine mixed salts": [("serotonergic", f"{PI} (Adderall), section 5 (serotonin syndrome)")],
}

# code, side a, side b, severity, hazard, action, risk, mechanism, advice, source, washout
# A side is ("drug", name), ("class", drug class) or ("prop", property).
D, C, P = "drug", "class", "prop"
CLASS_RULES = [
    ("maoi-serotonergic", (P, "mao_inhibitor"), (P, "serotonergic"), "contraindicated", "serotonin", "avoid",
     "Serotonin syndrome (can be fatal)", "MAO inhibition plus another serotonergic drug",
     "Do not combine; respect the washout (5 weeks after fluoxetine, 2 weeks after other SSRIs, SNRIs, TCAs or the MAOI).",
     MAOI_LABELS + "; " + SEROTONIN_CLASS, True),
    ("maoi-maoi", (P, "mao_inhibitor"), (P, "mao_inhibitor"), "contraindicated", "hypertension", "avoid",
     "Hypertensive crisis and serotonin syndrome", "Two MAO inhibitors",
     "Do not combine; allow 14 days when switching.", MAOI_LABELS, True),
    ("maoi-stimulant", (P, "mao_inhibitor"), (C, "stimulant"), "contraindicated", "hypertension", "avoid",
     "Hypertensive crisis", "MAO inhibition plus noradrenaline/dopamine release",
     "Do not use a stimulant with or within 14 days of an MAOI.",
     "Ritalin, Vyvanse and Adderall US prescribing information, section 4", True),
    ("serotonergic-additive", (P, "serotonergic"), (P, "serotonergic"), "moderate", "serotonin", "monitor",
     "Serotonin syndrome", "Two serotonergic drugs",
     "Monitor for agitation, tremor, clonus, hyperthermia, especially at the start and after dose increases.",
     SEROTONIN_CLASS, False),
    ("sri-bleeding", (P, "sri"), (P, "bleeding_risk"), "moderate", "bleeding", "monitor",
     "Bleeding, especially gastrointestinal", "Platelet serotonin depletion plus an NSAID or anticoagulant",
     "Monitor for bleeding; consider gastroprotection; check the INR with warfarin.",
     "SSRI/SNRI US prescribing information, section 5 (abnormal bleeding)", False),
    ("bleeding-bleeding", (P, "bleeding_risk"), (P, "bleeding_risk"), "major", "bleeding", "avoid",
     "Serious bleeding", "Two drugs that raise bleeding risk (NSAIDs, anticoagulant)",
     "Avoid; if unavoidable, give gastroprotection and monitor (INR with warfarin).",
     "NSAID US prescribing information, boxed warning; Coumadin PI, section 7", False),
    ("qt-known-known", (P, "qt_known"), (P, "qt_known"), "major", "qt", "avoid",
     "QT prolongation and torsades de pointes", "Two drugs with a known risk of torsades",
     "Avoid; if unavoidable, ECG at baseline and on treatment, keep potassium and magnesium normal.",
     f"{CM}; Celexa US PI, section 5 (QT prolongation)", False),
    ("qt-known-possible", (P, "qt_known"), (P, "qt_possible"), "moderate", "qt", "monitor",
     "QT prolongation", "A drug with a known and one with a possible risk of torsades",
     "ECG at baseline and after dose increases; correct potassium and magnesium.", CM, False),
    ("cyp1a2-strong-inhibitor-sensitive", (P, "cyp1a2_inhibitor_strong"), (P, "cyp1a2_substrate_sensitive"),
     "major", "exposure_up", "avoid", "Much higher levels of the CYP1A2 substrate",
     "Strong CYP1A2 inhibition of a sensitive substrate (AUC x5 or more)",
     "Avoid (e.g. duloxetine with fluvoxamine or ciprofloxacin).", f"{FDA_DDI}; Cymbalta US PI, section 7", False),
    ("cyp1a2-strong-inhibitor-moderate", (P, "cyp1a2_inhibitor_strong"), (P, "cyp1a2_substrate_moderate"),
     "moderate", "exposure_up", "reduce", "Higher levels of the CYP1A2 substrate",
     "Strong CYP1A2 inhibition of a moderately sensitive substrate (AUC x2-5)",
     "Consider a lower dose of the substrate and watch for adverse effects.", FDA_DDI, False),
    ("cyp1a2-moderate-inhibitor-sensitive", (P, "cyp1a2_inhibitor_moderate"), (P, "cyp1a2_substrate_sensitive"),
     "moderate", "exposure_up", "monitor", "Higher levels of the CYP1A2 substrate",
     "Moderate CYP1A2 inhibition of a sensitive substrate", "Monitor for adverse effects.", FDA_DDI, False),
    ("cyp1a2-inducer-sensitive", (P, "cyp1a2_inducer_moderate"), (P, "cyp1a2_substrate_sensitive"),
     "moderate", "exposure_down", "monitor", "Lower levels of the CYP1A2 substrate",
     "CYP1A2 induction", "Monitor the response; a higher dose may be needed (and a lower one when the inducer stops).",
     FDA_DDI, False),
    ("cyp1a2-inducer-moderate", (P, "cyp1a2_inducer_moderate"), (P, "cyp1a2_substrate_moderate"),
     "moderate", "exposure_down", "monitor", "Lower levels of the CYP1A2 substrate",
     "CYP1A2 induction", "Monitor the response; levels rise again when the inducer stops.", FDA_DDI, False),
    ("cyp2d6-strong-inhibitor-sensitive", (P, "cyp2d6_inhibitor_strong"), (P, "cyp2d6_substrate_sensitive"),
     "major", "exposure_up", "reduce", "Much higher levels of the CYP2D6 substrate",
     "Strong CYP2D6 inhibition of a sensitive substrate (AUC x5 or more)",
     "Reduce the substrate's dose (nortriptyline: check the level) or choose another drug.", FDA_DDI, False),
    ("cyp2d6-strong-inhibitor-moderate", (P, "cyp2d6_inhibitor_strong"), (P, "cyp2d6_substrate_moderate"),
     "moderate", "exposure_up", "monitor", "Altered levels of the CYP2D6 substrate",
     "Strong CYP2D6 inhibition of a moderately sensitive substrate (tramadol: less active metabolite)",
     "Monitor the effect and adverse effects.", FDA_DDI, False),
    ("cyp2d6-moderate-inhibitor-sensitive", (P, "cyp2d6_inhibitor_moderate"), (P, "cyp2d6_substrate_sensitive"),
     "moderate", "exposure_up", "monitor", "Higher levels of the CYP2D6 substrate",
     "Moderate CYP2D6 inhibition of a sensitive substrate", "Monitor for adverse effects.", FDA_DDI, False),
    ("cyp3a4-strong-inhibitor-sensitive", (P, "cyp3a4_inhibitor_strong"), (P, "cyp3a4_substrate_sensitive"),
     "major", "exposure_up", "avoid", "Much higher levels of the CYP3A4 substrate",
     "Strong CYP3A4 inhibition of a sensitive substrate (AUC x5 or more)",
     "Avoid, or reduce the substrate's dose as its label says.", FDA_DDI, False),
    ("cyp3a4-strong-inhibitor-moderate", (P, "cyp3a4_inhibitor_strong"), (P, "cyp3a4_substrate_moderate"),
     "moderate", "exposure_up", "reduce", "Higher levels of the CYP3A4 substrate",
     "Strong CYP3A4 inhibition of a moderately sensitive substrate (AUC x2-5)",
     "Consider a lower dose of the substrate.", FDA_DDI, False),
    ("cyp3a4-moderate-inhibitor-sensitive", (P, "cyp3a4_inhibitor_moderate"), (P, "cyp3a4_substrate_sensitive"),
     "moderate", "exposure_up", "monitor", "Higher levels of the CYP3A4 substrate",
     "Moderate CYP3A4 inhibition of a sensitive substrate", "Monitor for adverse effects; consider a lower dose.",
     FDA_DDI, False),
    ("cyp3a4-strong-inducer-sensitive", (P, "cyp3a4_inducer_strong"), (P, "cyp3a4_substrate_sensitive"),
     "major", "exposure_down", "avoid", "Loss of effect of the CYP3A4 substrate",
     "Strong CYP3A4 induction of a sensitive substrate (AUC down 80 % or more)",
     "Avoid, or raise the substrate's dose as its label says (and lower it when the inducer stops).", FDA_DDI, False),
    ("cyp3a4-strong-inducer-moderate", (P, "cyp3a4_inducer_strong"), (P, "cyp3a4_substrate_moderate"),
     "moderate", "exposure_down", "adjust", "Lower levels of the CYP3A4 substrate",
     "Strong CYP3A4 induction", "Monitor the response; a higher dose may be needed.", FDA_DDI, False),
    ("ugt-inhibitor-substrate", (P, "ugt_inhibitor"), (P, "ugt_substrate"), "moderate", "exposure_up", "reduce",
     "Higher levels of the glucuronidated drug", "Glucuronidation (UGT) inhibition",
     "Consider a lower dose.", f"{PI} (Lamictal), section 7; Ativan PI, section 7", False),
    ("ugt-inducer-substrate", (P, "ugt_inducer"), (P, "ugt_substrate"), "moderate", "exposure_down", "adjust",
     "Lower levels of the glucuronidated drug (lamotrigine)", "Glucuronidation (UGT) induction",
     "Lamotrigine: follow the label's schedule for patients on inducers (target about 400 mg/day); "
     "reduce again when the inducer stops.", f"{PI} (Lamictal), sections 2.1 and 7", False),
    ("opioid-cns-depressant", (P, "respiratory_depressant"), (P, "cns_depressant"), "major", "respiratory", "avoid",
     "Profound sedation, respiratory depression, coma, death",
     "An opioid with a benzodiazepine or another CNS depressant",
     "Avoid; if unavoidable, use the lowest doses for the shortest time, monitor breathing and sedation, offer naloxone.",
     FDA_OPIOID_BENZO, False),
    ("cns-depressant-additive", (P, "cns_depressant"), (P, "cns_depressant"), "moderate", "respiratory", "monitor",
     "Additive sedation and psychomotor impairment", "Two CNS depressants",
     "Monitor sedation; warn about driving and alcohol.", "CNS depressant class labeling (benzodiazepines, hypnotics, sedating antipsychotics)", False),
    ("seizure-threshold-additive", (P, "lowers_seizure_threshold"), (P, "lowers_seizure_threshold"), "moderate",
     "seizure", "monitor", "Seizures", "Two drugs that lower the seizure threshold",
     "Use the lowest effective doses; avoid in patients with seizure risk factors.",
     "Wellbutrin XL, Ultram and Clozaril US prescribing information, section 5 (seizures)", False),
    ("lithium-clearance", (D, "Lithium carbonate"), (P, "reduces_lithium_clearance"), "major", "lithium", "monitor",
     "Lithium toxicity", "Reduced renal lithium clearance (NSAID, ACE inhibitor, ARB, thiazide)",
     "Avoid; if unavoidable, check the lithium level within 5-7 days and after any dose change, and renal function.",
     f"{PI} (lithium), section 7; NHS SPS lithium monitoring", False),
    ("neutropenia-additive", (P, "neutropenia_risk"), (P, "neutropenia_risk"), "major", "neutropenia", "avoid",
     "Neutropenia / agranulocytosis", "Two drugs that can suppress the bone marrow",
     "Avoid; if unavoidable, monitor the ANC more often.",
     "Clozaril US PI, boxed warning and section 7; Tegretol and Tapazole US PI", False),
    ("anticholinergic-burden", (P, "anticholinergic_high"), (P, "anticholinergic_high"), "moderate",
     "anticholinergic", "monitor", "High anticholinergic burden (confusion, constipation, urinary retention)",
     "Two strongly anticholinergic drugs (ACB score 6 or more)",
     "Review the need for both; watch for confusion, constipation and ileus, especially in older patients.",
     ACB, False),
]

PAIR_RULES = [
    ("lamotrigine-valproate", (D, "Lamotrigine"), (D, "Divalproex sodium (valproate)"), "major", "rash", "reduce",
     "Serious rash (Stevens-Johnson syndrome, toxic epidermal necrolysis)",
     "Valproate inhibits lamotrigine glucuronidation: levels about double",
     "Halve the lamotrigine titration and target dose (about 100 mg/day in bipolar disorder); stop at the first rash.",
     f"{PI} (Lamictal), boxed warning and section 2", False),
    ("clozapine-strong-cyp1a2-inhibitor", (D, "Clozapine"), (P, "cyp1a2_inhibitor_strong"), "major",
     "exposure_up", "reduce", "Clozapine levels rise several-fold (seizures, sedation, hypotension)",
     "Strong CYP1A2 inhibition (fluvoxamine, ciprofloxacin)",
     "Use one third of the clozapine dose; check the clozapine level.", f"{PI} (Clozaril), sections 2.6 and 7", False),
    ("clozapine-strong-cyp3a4-inducer", (D, "Clozapine"), (P, "cyp3a4_inducer_strong"), "major", "exposure_down",
     "avoid", "Loss of clozapine effect", "Strong CYP3A4 induction",
     "Not recommended; if unavoidable, check the clozapine level and raise the dose.",
     f"{PI} (Clozaril), sections 2.6 and 7", False),
    ("clozapine-carbamazepine", (D, "Clozapine"), (D, "Carbamazepine"), "contraindicated", "neutropenia", "avoid",
     "Agranulocytosis: both can suppress the bone marrow",
     "Additive bone-marrow suppression (and CYP3A4 induction lowers clozapine)",
     "Do not combine clozapine with drugs with a substantial potential to cause agranulocytosis.",
     "Clozaril UK Summary of Product Characteristics, sections 4.3 and 4.5", False),
    ("clozapine-benzodiazepine", (D, "Clozapine"), (P, "benzodiazepine"), "major", "respiratory", "monitor",
     "Collapse, respiratory or cardiac arrest", "Additive CNS and respiratory depression",
     "Avoid starting both together; if needed, low doses and close observation (especially when starting clozapine).",
     f"{PI} (Clozaril), sections 5 and 7 (benzodiazepines)", False),
    ("aripiprazole-strong-cyp2d6-inhibitor", (D, "Aripiprazole"), (P, "cyp2d6_inhibitor_strong"), "major",
     "exposure_up", "reduce", "Aripiprazole levels about double", "Strong CYP2D6 inhibition",
     "Give half the usual aripiprazole dose (a quarter with a strong CYP3A4 inhibitor too).",
     f"{PI} (Abilify), section 2.7", False),
    ("aripiprazole-strong-cyp3a4-inhibitor", (D, "Aripiprazole"), (P, "cyp3a4_inhibitor_strong"), "major",
     "exposure_up", "reduce", "Aripiprazole levels about double", "Strong CYP3A4 inhibition",
     "Give half the usual aripiprazole dose.", f"{PI} (Abilify), section 2.7", False),
    ("aripiprazole-strong-cyp3a4-inducer", (D, "Aripiprazole"), (P, "cyp3a4_inducer_strong"), "major",
     "exposure_down", "adjust", "Loss of aripiprazole effect", "Strong CYP3A4 induction",
     "Double the aripiprazole dose over 1-2 weeks; reduce again when the inducer stops.",
     f"{PI} (Abilify), section 2.7", False),
    ("lurasidone-strong-cyp3a4-inhibitor", (D, "Lurasidone"), (P, "cyp3a4_inhibitor_strong"), "contraindicated",
     "exposure_up", "avoid", "Lurasidone levels rise about nine-fold", "Strong CYP3A4 inhibition",
     "Do not combine.", f"{PI} (Latuda), section 4", False),
    ("lurasidone-strong-cyp3a4-inducer", (D, "Lurasidone"), (P, "cyp3a4_inducer_strong"), "contraindicated",
     "exposure_down", "avoid", "Loss of lurasidone effect (levels fall about 80 %)", "Strong CYP3A4 induction",
     "Do not combine.", f"{PI} (Latuda), section 4", False),
    ("lurasidone-moderate-cyp3a4-inhibitor", (D, "Lurasidone"), (P, "cyp3a4_inhibitor_moderate"), "moderate",
     "exposure_up", "reduce", "Higher lurasidone levels", "Moderate CYP3A4 inhibition",
     "Halve the lurasidone dose; at most 80 mg/day.", f"{PI} (Latuda), section 2", False),
    ("quetiapine-strong-cyp3a4-inhibitor", (D, "Quetiapine"), (P, "cyp3a4_inhibitor_strong"), "major",
     "exposure_up", "reduce", "Quetiapine levels rise about six-fold", "Strong CYP3A4 inhibition",
     "Reduce quetiapine to one sixth of the dose; restore it when the inhibitor stops.",
     f"{PI} (Seroquel), section 2", False),
    ("quetiapine-strong-cyp3a4-inducer", (D, "Quetiapine"), (P, "cyp3a4_inducer_strong"), "major",
     "exposure_down", "adjust", "Loss of quetiapine effect", "Strong CYP3A4 induction",
     "Up to 5 times the quetiapine dose may be needed; reduce within 7-14 days after the inducer stops.",
     f"{PI} (Seroquel), section 2", False),
    ("cariprazine-strong-cyp3a4-inhibitor", (D, "Cariprazine"), (P, "cyp3a4_inhibitor_strong"), "major",
     "exposure_up", "reduce", "Higher cariprazine levels", "Strong CYP3A4 inhibition",
     "Halve the cariprazine dose.", f"{PI} (Vraylar), section 2", False),
    ("cariprazine-strong-cyp3a4-inducer", (D, "Cariprazine"), (P, "cyp3a4_inducer_strong"), "major",
     "exposure_down", "avoid", "Unpredictable cariprazine levels", "Strong CYP3A4 induction",
     "Not recommended.", f"{PI} (Vraylar), section 2", False),
    ("alprazolam-strong-cyp3a4-inhibitor", (D, "Alprazolam"), (P, "cyp3a4_inhibitor_strong"), "contraindicated",
     "exposure_up", "avoid", "Much higher alprazolam levels (sedation, respiratory depression)",
     "Strong CYP3A4 inhibition (ketoconazole, itraconazole)", "Do not combine.",
     f"{PI} (Xanax), section 4", False),
    ("ziprasidone-qt-known", (D, "Ziprasidone"), (P, "qt_known"), "major", "qt", "avoid",
     "QT prolongation and torsades de pointes", "Additive QT prolongation",
     "Avoid combining ziprasidone with other drugs known to prolong the QT interval.",
     f"{PI} (Geodon), sections 4 and 5.3", False),
    ("sri-tramadol", (P, "sri"), (D, "Tramadol"), "major", "serotonin", "avoid",
     "Serotonin syndrome and seizures", "Serotonin reuptake inhibition plus tramadol's serotonergic action",
     "Avoid; if needed, use the lowest tramadol dose and monitor for serotonin syndrome and seizures.",
     f"{PI} (Ultram), section 5 (serotonin syndrome; seizure risk)", False),
    ("bupropion-tramadol", (D, "Bupropion XL"), (D, "Tramadol"), "major", "seizure", "avoid",
     "Seizures", "Both lower the seizure threshold (and bupropion's CYP2D6 inhibition alters tramadol)",
     "Avoid; choose another analgesic.", f"{PI} (Ultram) and (Wellbutrin XL), section 5 (seizures)", False),
    ("linezolid-serotonergic", (D, "Linezolid"), (P, "serotonergic"), "contraindicated", "serotonin", "avoid",
     "Serotonin syndrome", "Linezolid is a reversible MAO inhibitor",
     "Do not combine; if linezolid is urgent, stop the antidepressant and monitor for 2 weeks "
     "(5 weeks after fluoxetine); restart it 24 hours after the last linezolid dose.", FDA_LINEZOLID, True),
    ("methylene-blue-serotonergic", (D, "Methylene blue"), (P, "serotonergic"), "contraindicated", "serotonin",
     "avoid", "Serotonin syndrome", "Methylene blue is a potent MAO-A inhibitor",
     "Do not combine; if methylene blue is urgent, stop the antidepressant and monitor for 2 weeks "
     "(5 weeks after fluoxetine); restart it 24 hours after the last methylene blue dose.", FDA_LINEZOLID, True),
    ("lithium-maoi", (D, "Lithium carbonate"), (P, "mao_inhibitor"), "major", "serotonin", "monitor",
     "Serotonin syndrome", "Lithium's serotonergic action with MAO inhibition",
     "Avoid unless a specialist decides otherwise; monitor closely.",
     f"{PI} (lithium), section 7 (serotonergic drugs)", True),
    ("ondansetron-maoi", (D, "Ondansetron"), (P, "mao_inhibitor"), "major", "serotonin", "monitor",
     "Serotonin syndrome", "5-HT3 antagonism with MAO inhibition",
     "Prefer another antiemetic; if used, monitor for serotonin syndrome.", f"{PI} (Zofran), section 5", True),
    ("buspirone-maoi", (D, "Buspirone"), (P, "mao_inhibitor"), "major", "hypertension", "avoid",
     "Elevated blood pressure", "Buspirone with MAO inhibition", "Avoid the combination.",
     f"{PI} (BuSpar), section 7", True),
    ("bupropion-maoi", (D, "Bupropion XL"), (P, "mao_inhibitor"), "contraindicated", "hypertension", "avoid",
     "Hypertensive reactions", "Noradrenaline and dopamine reuptake inhibition with MAO inhibition",
     "Do not combine; 14 days after stopping the MAOI.", f"{PI} (Wellbutrin XL), section 4", True),
    ("tramadol-maoi", (D, "Tramadol"), (P, "mao_inhibitor"), "contraindicated", "serotonin", "avoid",
     "Serotonin syndrome and seizures", "Tramadol's serotonergic action with MAO inhibition",
     "Do not combine, or within 14 days of an MAOI.", f"{PI} (Ultram), section 4", True),
    ("methadone-maoi", (D, "Methadone"), (P, "mao_inhibitor"), "major", "serotonin", "avoid",
     "Serotonin syndrome or opioid toxicity", "Opioid with MAO inhibition",
     "Not recommended with or within 14 days of an MAOI.", f"{PI} (Dolophine), section 7", True),
    ("oxycodone-maoi", (D, "Oxycodone"), (P, "mao_inhibitor"), "major", "serotonin", "avoid",
     "Serotonin syndrome or opioid toxicity", "Opioid with MAO inhibition",
     "Not recommended with or within 14 days of an MAOI.", f"{PI} (OxyContin), section 7", True),
    ("oxycodone-strong-cyp3a4-inhibitor", (D, "Oxycodone"), (P, "cyp3a4_inhibitor_strong"), "major",
     "exposure_up", "avoid", "Fatal respiratory depression from raised oxycodone levels", "CYP3A4 inhibition",
     "Avoid; if unavoidable, reduce the oxycodone dose and monitor closely.",
     f"{PI} (OxyContin), boxed warning (CYP3A4 interactions)", False),
    ("lithium-carbamazepine", (D, "Lithium carbonate"), (D, "Carbamazepine"), "moderate", "other", "monitor",
     "Neurotoxicity (confusion, ataxia, tremor) at usual levels", "Pharmacodynamic interaction",
     "Monitor for neurotoxicity; check the lithium level and sodium.", f"{PI} (lithium), section 7 (carbamazepine)",
     False),
    ("carbamazepine-strong-cyp3a4-inhibitor", (D, "Carbamazepine"), (P, "cyp3a4_inhibitor_strong"), "major",
     "exposure_up", "monitor", "Carbamazepine toxicity (ataxia, diplopia, hyponatraemia)",
     "CYP3A4 inhibition of carbamazepine's clearance",
     "Check the carbamazepine level within a week and reduce the dose as needed.",
     f"{PI} (Tegretol), section 7", False),
    ("carbamazepine-moderate-cyp3a4-inhibitor", (D, "Carbamazepine"), (P, "cyp3a4_inhibitor_moderate"), "moderate",
     "exposure_up", "monitor", "Higher carbamazepine levels", "CYP3A4 inhibition",
     "Check the carbamazepine level.", f"{PI} (Tegretol), section 7", False),
    ("carbamazepine-valproate", (D, "Carbamazepine"), (D, "Divalproex sodium (valproate)"), "moderate",
     "exposure_down", "monitor", "Lower valproate levels; more carbamazepine epoxide",
     "Enzyme induction; epoxide hydrolase inhibition", "Monitor both drugs' effects and levels.",
     f"{PI} (Depakote), section 7", False),
    ("contraceptive-strong-inducer", (D, "Ethinylestradiol/levonorgestrel (combined oral contraceptive)"),
     (P, "cyp3a4_inducer_strong"), "major", "exposure_down", "avoid", "Contraceptive failure",
     "Enzyme induction lowers estrogen and progestogen levels",
     "Use a method not affected by inducers (copper or levonorgestrel IUD, depot medroxyprogesterone) during and 28 days after.",
     "FSRH Clinical Guidance: Drug Interactions with Hormonal Contraception (2022); Tegretol US PI, section 7", False),
    ("lorazepam-valproate", (D, "Lorazepam"), (D, "Divalproex sodium (valproate)"), "moderate", "exposure_up",
     "reduce", "Higher lorazepam levels (sedation)", "Valproate inhibits lorazepam glucuronidation",
     "Reduce the lorazepam dose to about half.", f"{PI} (Ativan), section 7", False),
    ("warfarin-fluconazole", (D, "Warfarin"), (D, "Fluconazole"), "major", "bleeding", "monitor",
     "Bleeding: INR rises", "CYP2C9 (and CYP3A4) inhibition of warfarin's clearance",
     "Check the INR within 3-5 days; a lower warfarin dose is usually needed.",
     f"{PI} (Coumadin), section 7; Diflucan PI, section 7", False),
    ("warfarin-strong-inducer", (D, "Warfarin"), (P, "cyp3a4_inducer_strong"), "major", "exposure_down", "monitor",
     "Loss of anticoagulation: INR falls", "Enzyme induction of warfarin's clearance",
     "Check the INR often; adjust the dose, and again when the inducer stops.", f"{PI} (Coumadin), section 7", False),
    ("citalopram-omeprazole", (D, "Citalopram"), (D, "Omeprazole"), "moderate", "exposure_up", "reduce",
     "Higher citalopram levels (QT prolongation)", "CYP2C19 inhibition",
     "Limit citalopram to 20 mg/day.", f"{PI} (Celexa), sections 2 and 7 (CYP2C19 inhibitors)", False),
]

# Patient-specific limits (CLINICAL.md b11, the labels):
# drug, condition, threshold, hepatic level, keyword, max daily dose, max per kg, reason, source
LIMITS = [
    ("Citalopram", "age_above", "60", "", "", "20", None, "above age 60 (QT prolongation)",
     f"{PI} (Celexa), section 2.2 (FDA 2011/2012)"),
    ("Citalopram", "hepatic", None, "mild", "", "20", None, "hepatic impairment",
     f"{PI} (Celexa), section 2.2"),
    ("Escitalopram", "age_above", "64", "", "", "10", None, "in the elderly (65 and over)",
     f"{PI} (Lexapro), section 2"),
    ("Escitalopram", "hepatic", None, "mild", "", "10", None, "hepatic impairment", f"{PI} (Lexapro), section 2"),
    ("Paroxetine", "age_above", "64", "", "", "40", None, "in the elderly (65 and over)",
     f"{PI} (Paxil), section 2"),
    ("Paroxetine", "hepatic", None, "severe", "", "40", None, "severe hepatic impairment",
     f"{PI} (Paxil), section 2"),
    ("Paroxetine", "egfr_below", "30", "", "", "40", None, "severe renal impairment (eGFR below 30)",
     f"{PI} (Paxil), section 2 (CrCl < 30 mL/min)"),
    ("Duloxetine", "hepatic", None, "mild", "", "0", None, "hepatic impairment: not recommended",
     f"{PI} (Cymbalta), sections 2 and 5 (any hepatic insufficiency)"),
    ("Duloxetine", "egfr_below", "30", "", "", "0", None, "severe renal impairment (eGFR below 30): not recommended",
     f"{PI} (Cymbalta), section 2 (CrCl < 30 mL/min)"),
    ("Venlafaxine XR", "hepatic", None, "mild", "", "112.5", None, "hepatic impairment (half the dose)",
     f"{PI} (Effexor XR), section 2"),
    ("Venlafaxine XR", "egfr_below", "30", "", "", "112.5", None, "severe renal impairment (eGFR below 30; half the dose)",
     f"{PI} (Effexor XR), section 2 (CrCl < 30 mL/min or dialysis)"),
    ("Lurasidone", "hepatic", None, "moderate", "", "80", None, "moderate hepatic impairment",
     f"{PI} (Latuda), section 2"),
    ("Lurasidone", "hepatic", None, "severe", "", "40", None, "severe hepatic impairment", f"{PI} (Latuda), section 2"),
    ("Lurasidone", "egfr_below", "50", "", "", "80", None, "moderate or severe renal impairment (eGFR below 50)",
     f"{PI} (Latuda), section 2 (CrCl < 50 mL/min)"),
    ("Lithium carbonate", "egfr_below", "30", "", "", "0", None, "severe renal impairment (eGFR below 30): not recommended",
     f"{PI} (lithium), section 2 (renal impairment)"),
    ("Divalproex sodium (valproate)", "per_kg", None, "", "", None, "60", "60 mg/kg/day at the latest weight",
     f"{PI} (Depakote, mania), section 2"),
    ("Alprazolam", "indication", None, "", "anxiety", "4", None, "for anxiety", f"{PI} (Xanax), section 2"),
    ("Alprazolam", "indication", None, "", "panic", "10", None, "for panic disorder", f"{PI} (Xanax), section 2"),
    ("Zolpidem", "age_above", "64", "", "", "5", None, "in the elderly (65 and over)", f"{PI} (Ambien), section 2"),
    ("Zolpidem", "hepatic", None, "mild", "", "5", None, "hepatic impairment", f"{PI} (Ambien), section 2"),
    ("Eszopiclone", "age_above", "64", "", "", "2", None, "in the elderly (65 and over)", f"{PI} (Lunesta), section 2"),
    ("Eszopiclone", "hepatic", None, "severe", "", "2", None, "severe hepatic impairment", f"{PI} (Lunesta), section 2"),
]

# What 0002 shipped, recognised by sides, severity and source so that admin-added rules survive.
SHIPPED_0002_SOURCES_PREFIXES = (
    "Nardil and Parnate US prescribing information, Contraindications",
    "Trintellix US prescribing information",
    "Remeron US prescribing information",
    "Desyrel US prescribing information",
    "BuSpar US prescribing information",
    "Wellbutrin XL US prescribing information",
    "Ritalin, Vyvanse and Adderall US prescribing information",
    "Ultram US prescribing information",
    "Lithium US prescribing information",
    "Clozaril UK Summary of Product Characteristics",
)


def _side(kind_value, medications):  # type: ignore[no-untyped-def]
    kind, value = kind_value
    if kind == D:
        return {"medication": medications[value]}
    if kind == C:
        return {"drug_class": value}
    return {"property": value}


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    Medication = apps.get_model("medications", "Medication")
    DrugProperty = apps.get_model("medications", "DrugProperty")
    InteractionRule = apps.get_model("medications", "InteractionRule")
    DoseLimit = apps.get_model("medications", "DoseLimit")
    for name, drug_class, unit, max_dose, source in NEW_DRUGS:
        Medication.objects.get_or_create(
            name=name,
            defaults={"drug_class": drug_class, "unit": unit, "max_daily_dose": Decimal(max_dose),
                      "max_dose_source": source},
        )
    medications = {m.name: m for m in Medication.objects.all()}
    for name, days, source in WASHOUT:
        if name in medications:
            Medication.objects.filter(pk=medications[name].pk).update(washout_days=days, washout_source=source)
    DrugProperty.objects.bulk_create(
        [DrugProperty(medication=medications[name], kind=kind, source=source)
         for name, rows in PROPERTIES.items() if name in medications for kind, source in rows],
        ignore_conflicts=True,
    )
    for rule in InteractionRule.objects.filter(code=""):
        if rule.source.startswith(SHIPPED_0002_SOURCES_PREFIXES):
            rule.delete()
        else:
            rule.code = f"custom-{rule.pk}"
            rule.mechanism = rule.risk
            rule.save(update_fields=["code", "mechanism"])
    for code, side_a, side_b, severity, hazard, action, risk, mechanism, advice, source, washout in (
        CLASS_RULES + PAIR_RULES
    ):
        if side_a[0] == D and side_a[1] not in medications or side_b[0] == D and side_b[1] not in medications:
            continue
        a, b = _side(side_a, medications), _side(side_b, medications)
        InteractionRule.objects.update_or_create(
            code=code,
            defaults={
                **{f"{key}_a": value for key, value in a.items()},
                **{f"{key}_b": value for key, value in b.items()},
                "severity": severity, "hazard": hazard, "action": action, "risk": risk, "mechanism": mechanism,
                "advice": advice, "source": source, "washout": washout, "is_active": True,
            },
        )
    for name, condition, threshold, hepatic, keyword, max_dose, per_kg, reason, source in LIMITS:
        if name in medications:
            DoseLimit.objects.create(
                medication=medications[name], condition=condition,
                threshold=Decimal(threshold) if threshold else None, hepatic_level=hepatic, keyword=keyword,
                max_daily_dose=Decimal(max_dose) if max_dose is not None else None,
                max_per_kg=Decimal(per_kg) if per_kg else None, reason=reason, source=source,
            )


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Back to 0002's table: the new rows go, 0002's rules come back (without codes)."""
    import importlib

    InteractionRule = apps.get_model("medications", "InteractionRule")
    Medication = apps.get_model("medications", "Medication")
    apps.get_model("medications", "DoseLimit").objects.all().delete()
    apps.get_model("medications", "DrugProperty").objects.all().delete()
    InteractionRule.objects.filter(code__in=[row[0] for row in CLASS_RULES + PAIR_RULES]).delete()
    InteractionRule.objects.filter(code__startswith="custom-").update(code="")
    Regimen = apps.get_model("medications", "Regimen")
    unused = Medication.objects.filter(name__in=[row[0] for row in NEW_DRUGS]).exclude(
        pk__in=Regimen.objects.values("medication_id")
    )
    # Nothing else points at them any more (rules, properties, limits went above); a raw delete
    # skips the collector, which trips over the historical models here.
    unused._raw_delete(unused.db)
    medications = dict(Medication.objects.values_list("name", "pk"))
    shipped = importlib.import_module("medications.migrations.0002_catalog_protocols_interactions")
    for side_a, side_b, severity, risk, advice, source in shipped.INTERACTIONS:
        fields = {}
        for suffix, (kind, value) in (("a", side_a), ("b", side_b)):
            if kind == "drug":
                fields[f"medication_{suffix}_id"] = medications[value]
            else:
                fields[f"drug_class_{suffix}"] = value
        InteractionRule.objects.create(severity=severity, risk=risk, advice=advice, source=source, **fields)


class Migration(migrations.Migration):
    dependencies = [("medications", "0003_mechanism_interactions_schema")]

    operations = [migrations.RunPython(load, unload)]
