"""Interactions from mechanisms (issue 11, item 1): a table of dangerous pairs from the labels,
each with the severity it must raise, checked in both directions; every rule and property
names its source. Not a complete interaction database (README; CLINICAL.md b10)."""

import pytest

from medications.interactions import Other, interactions_between, rule_book
from medications.models import DrugProperty, InteractionRule, Medication
from tests.medications.conftest import med

COC = "Ethinylestradiol/levonorgestrel (combined oral contraceptive)"
VALPROATE = "Divalproex sodium (valproate)"
C, MA, MO = "contraindicated", "major", "moderate"

# (drug, drug, expected most severe warning) — the label or table each rests on is the rule's source.
DANGEROUS_PAIRS = [
    # MAOI + serotonergic drugs, other MAOIs, stimulants, bupropion (Nardil/Parnate labels, section 4)
    ("Phenelzine", "Sertraline", C),
    ("Phenelzine", "Fluoxetine", C),
    ("Tranylcypromine", "Escitalopram", C),
    ("Phenelzine", "Citalopram", C),
    ("Tranylcypromine", "Paroxetine", C),
    ("Phenelzine", "Venlafaxine XR", C),
    ("Tranylcypromine", "Duloxetine", C),
    ("Phenelzine", "Clomipramine", C),
    ("Phenelzine", "Amitriptyline", C),
    ("Phenelzine", "Vortioxetine", C),
    ("Phenelzine", "Mirtazapine", C),
    ("Phenelzine", "Bupropion XL", C),
    ("Phenelzine", "Tranylcypromine", C),
    ("Phenelzine", "Methylphenidate", C),
    ("Tranylcypromine", "Lisdexamfetamine", C),
    ("Phenelzine", "Tramadol", C),
    ("Phenelzine", "Dextromethorphan", C),
    ("Phenelzine", "Sumatriptan", C),
    ("Phenelzine", "Methadone", MA),
    ("Phenelzine", "Oxycodone", MA),
    ("Phenelzine", "Lithium carbonate", MA),
    ("Phenelzine", "Buspirone", MA),
    ("Phenelzine", "Ondansetron", MA),
    # Linezolid, IV methylene blue (FDA 2011)
    ("Linezolid", "Sertraline", C),
    ("Linezolid", "Venlafaxine XR", C),
    ("Methylene blue", "Fluoxetine", C),
    ("Methylene blue", "Clomipramine", C),
    ("Linezolid", "Phenelzine", C),
    # Serotonin reuptake inhibitors or bupropion + tramadol (Ultram label, section 5)
    ("Sertraline", "Tramadol", MA),
    ("Fluoxetine", "Tramadol", MA),
    ("Venlafaxine XR", "Tramadol", MA),
    ("Duloxetine", "Tramadol", MA),
    ("Bupropion XL", "Tramadol", MA),
    # QT (CredibleMeds; Celexa, Geodon labels)
    ("Citalopram", "Ziprasidone", MA),
    ("Escitalopram", "Ziprasidone", MA),
    ("Citalopram", "Haloperidol", MA),
    ("Escitalopram", "Haloperidol", MA),
    ("Citalopram", "Methadone", MA),
    ("Escitalopram", "Methadone", MA),
    ("Haloperidol", "Methadone", MA),
    ("Citalopram", "Ondansetron", MA),
    ("Methadone", "Clarithromycin", MA),
    # CYP1A2 (Clozaril 2.6, Zyprexa 7, Cymbalta 7)
    ("Fluvoxamine", "Clozapine", MA),
    ("Ciprofloxacin", "Clozapine", MA),
    ("Fluvoxamine", "Olanzapine", MO),
    ("Fluvoxamine", "Duloxetine", MA),
    ("Ciprofloxacin", "Duloxetine", MA),
    # CYP2D6 (Abilify 2.7; FDA table)
    ("Fluoxetine", "Aripiprazole", MA),
    ("Paroxetine", "Aripiprazole", MA),
    ("Bupropion XL", "Aripiprazole", MA),
    ("Fluoxetine", "Nortriptyline", MA),
    ("Paroxetine", "Dextromethorphan", MA),
    # CYP3A4 and UGT (Latuda 4, Seroquel 2, Abilify 2.7, Xanax 4, Tegretol 7, Lamictal)
    ("Carbamazepine", "Lurasidone", C),
    ("Rifampicin", "Lurasidone", C),
    ("Ketoconazole", "Lurasidone", C),
    ("Clarithromycin", "Lurasidone", C),
    ("Carbamazepine", "Quetiapine", MA),
    ("Ketoconazole", "Quetiapine", MA),
    ("Carbamazepine", "Aripiprazole", MA),
    ("Clarithromycin", "Aripiprazole", MA),
    ("Ketoconazole", "Alprazolam", C),
    ("Clarithromycin", "Buspirone", MA),
    ("Clarithromycin", "Carbamazepine", MA),
    ("Carbamazepine", COC, MA),
    ("Rifampicin", COC, MA),
    ("Carbamazepine", "Lamotrigine", MO),
    ("Lamotrigine", VALPROATE, MA),
    ("Lamotrigine", COC, MO),
    ("Clarithromycin", "Oxycodone", MA),
    ("Rifampicin", "Clozapine", MA),
    ("Carbamazepine", "Cariprazine", MA),
    ("Fluconazole", "Lurasidone", MO),
    # Lithium (lithium label, section 7)
    ("Lithium carbonate", "Ibuprofen", MA),
    ("Lithium carbonate", "Naproxen", MA),
    ("Lithium carbonate", "Lisinopril", MA),
    ("Lithium carbonate", "Enalapril", MA),
    ("Lithium carbonate", "Losartan", MA),
    ("Lithium carbonate", "Hydrochlorothiazide", MA),
    ("Lithium carbonate", "Carbamazepine", MO),
    # Opioids or tramadol + benzodiazepines or other CNS depressants (FDA 2016 boxed warning)
    ("Oxycodone", "Lorazepam", MA),
    ("Tramadol", "Alprazolam", MA),
    ("Methadone", "Diazepam", MA),
    ("Oxycodone", "Clonazepam", MA),
    ("Oxycodone", "Zolpidem", MA),
    # Clozapine (Clozaril label; UK SmPC 4.3)
    ("Clozapine", "Lorazepam", MA),
    ("Clozapine", "Diazepam", MA),
    ("Clozapine", "Carbamazepine", C),
    ("Clozapine", "Methimazole", MA),
    # Bleeding (NSAID boxed warning; Coumadin label; SSRI labels)
    ("Warfarin", "Ibuprofen", MA),
    ("Warfarin", "Fluconazole", MA),
    ("Warfarin", "Rifampicin", MA),
    ("Sertraline", "Ibuprofen", MO),
    ("Fluoxetine", "Warfarin", MO),
    # Others the labels single out
    ("Lorazepam", VALPROATE, MO),
    ("Citalopram", "Omeprazole", MO),
    ("Bupropion XL", "Clozapine", MO),
    ("Sumatriptan", "Sertraline", MO),
    ("Carbamazepine", VALPROATE, MO),
]

SAFE_PAIRS = [("Sertraline", "Quetiapine"), ("Lithium carbonate", "Lamotrigine"), ("Aripiprazole", "Sertraline")]


def _warnings(first: str, second: str):  # type: ignore[no-untyped-def]
    a, b = med(first), med(second)
    return interactions_between(medication=a, others=[Other(b)], book=rule_book([a.pk, b.pk]))


def test_the_pair_table_has_at_least_sixty_pairs():
    assert len(DANGEROUS_PAIRS) >= 60
    assert len({frozenset(pair[:2]) for pair in DANGEROUS_PAIRS}) == len(DANGEROUS_PAIRS)


@pytest.mark.django_db
@pytest.mark.parametrize(("first", "second", "severity"), DANGEROUS_PAIRS)
def test_dangerous_pair_raises_its_severity_in_both_directions(first, second, severity):
    for a, b in ((first, second), (second, first)):
        warnings = _warnings(a, b)
        assert warnings, f"{a} + {b}: no warning"
        assert warnings[0].severity == severity, f"{a} + {b}: {[(w.code, w.severity) for w in warnings]}"
        for warning in warnings:
            assert warning.code and warning.source and warning.mechanism and warning.action and warning.risk
            assert warning.drugs == f"{a} + {b}"


@pytest.mark.django_db
@pytest.mark.parametrize(("first", "second"), SAFE_PAIRS)
def test_pairs_without_a_known_mechanism_raise_nothing(first, second):
    assert _warnings(first, second) == []


@pytest.mark.django_db
def test_a_pair_rule_replaces_the_class_rule_of_the_same_hazard():
    # Fluvoxamine + clozapine: the class rule (strong CYP1A2 inhibitor, moderate substrate) says
    # "moderate"; the Clozaril label's own advice (a third of the dose) is what shows.
    codes = [w.code for w in _warnings("Clozapine", "Fluvoxamine")]
    assert "clozapine-strong-cyp1a2-inhibitor" in codes and "cyp1a2-strong-inhibitor-moderate" not in codes
    [lamotrigine] = [w for w in _warnings("Lamotrigine", VALPROATE) if w.hazard == "rash"]
    assert "halve" in lamotrigine.advice.lower() and "boxed" in lamotrigine.source.lower()


@pytest.mark.django_db
def test_every_rule_and_property_names_its_source_and_rules_have_unique_codes():
    rules = list(InteractionRule.objects.all())
    assert all(rule.source and rule.code and rule.mechanism for rule in rules)
    assert len({rule.code for rule in rules}) == len(rules)
    assert not DrugProperty.objects.filter(source="").exists()
    assert not Medication.objects.filter(washout_days__isnull=False, washout_source="").exists()


@pytest.mark.django_db
def test_the_catalog_has_the_non_psychotropics_that_interact():
    for name in (
        "Tramadol",
        "Oxycodone",
        "Methadone",
        "Linezolid",
        "Methylene blue",
        "Ondansetron",
        "Sumatriptan",
        "Dextromethorphan",
        "Ciprofloxacin",
        "Clarithromycin",
        "Fluconazole",
        "Ketoconazole",
        "Rifampicin",
        "Omeprazole",
        "Warfarin",
        COC,
        "Ibuprofen",
        "Naproxen",
        "Lisinopril",
        "Losartan",
        "Hydrochlorothiazide",
    ):
        assert Medication.objects.filter(name=name).exists(), name


@pytest.mark.django_db
def test_the_interaction_rule_side_constraint_allows_exactly_one_of_drug_class_property():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        InteractionRule.objects.create(
            code="two-things",
            drug_class_a="ssri",
            property_a="serotonergic",
            property_b="mao_inhibitor",
            severity="major",
            risk="x",
            source="y",
        )
