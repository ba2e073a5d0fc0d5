"""Long-acting injectables, the carbamazepine protocol and the valproate pregnancy test
(issue 11, items 7 and 8). Data, frozen here like 0002; the clinic admin edits it after.

Per-injection maxima and intervals are the US labels' as summarised in CLINICAL.md b11
(Abilify Maintena, Invega Sustenna/Trinza/Hafyera, Zyprexa Relprevv) and, for the others,
the labels as recalled in the source string: check each against the current label.
"""

from decimal import Decimal

from django.db import migrations

PI = "US prescribing information"

# name, class, frequencies, min, max per injection, observation hours, protocol, source
INJECTABLES = [
    ("Aripiprazole monohydrate LAI", "antipsychotic_sga", "monthly", "300", "400", None, "sga-metabolic",
     f"{PI} (Abilify Maintena): 400 mg monthly, 300 mg if not tolerated (CLINICAL.md b11)"),
    ("Aripiprazole lauroxil LAI", "antipsychotic_sga", "monthly", "441", "882", None, "sga-metabolic",
     f"{PI} (Aristada): 441, 662 or 882 mg monthly (882 mg every 6 weeks and 1064 mg every 2 months are "
     "not offered: no such frequency here)"),
    ("Paliperidone palmitate 1-monthly", "antipsychotic_sga", "monthly", "39", "234", None, "sga-metabolic",
     f"{PI} (Invega Sustenna): 39-234 mg monthly (CLINICAL.md b11)"),
    ("Paliperidone palmitate 3-monthly", "antipsychotic_sga", "every_3_months", "273", "819", None,
     "sga-metabolic", f"{PI} (Invega Trinza): 273-819 mg every 3 months (CLINICAL.md b11)"),
    ("Paliperidone palmitate 6-monthly", "antipsychotic_sga", "every_6_months", "1092", "1560", None,
     "sga-metabolic", f"{PI} (Invega Hafyera): 1092-1560 mg every 6 months (CLINICAL.md b11)"),
    ("Risperidone long-acting injection", "antipsychotic_sga", "every_2_weeks", "12.5", "50", None,
     "sga-metabolic", f"{PI} (Risperdal Consta): 25 mg every 2 weeks, at most 50 mg every 2 weeks"),
    ("Haloperidol decanoate", "antipsychotic_fga", "every_4_weeks,monthly", "10", "450", None, "",
     f"{PI} (haloperidol decanoate): usually monthly; first injection at most 100 mg; experience above "
     "450 mg a month is limited"),
    ("Fluphenazine decanoate", "antipsychotic_fga", "every_2_weeks,every_4_weeks", "6.25", "100", None, "",
     f"{PI} (fluphenazine decanoate): 12.5-25 mg every 2-4 weeks; a single dose should not exceed 100 mg"),
    ("Olanzapine pamoate LAI", "antipsychotic_sga", "every_2_weeks,every_4_weeks", "150", "405", 3,
     "sga-metabolic", f"{PI} (Zyprexa Relprevv): 150-300 mg every 2 weeks or 300-405 mg every 4 weeks; "
     "observe 3 hours after each injection (post-injection delirium/sedation syndrome; CLINICAL.md b11)"),
]

TEGRETOL = ("Tegretol/Equetro US prescribing information, boxed warning and Warnings (HLA-B*1502 before "
            "starting in patients of at-risk ancestry; aplastic anaemia and agranulocytosis: pretreatment "
            "blood count, then periodically; hyponatraemia; hepatic effects) (CLINICAL.md b11)")
# (test, kind, offset_days, interval_days, until_day, window_days, rule, label)
CARBAMAZEPINE_STEPS = [
    ("hla_b1502", "once", 0, None, None, 3650, "if_hla_risk_ancestry", "Before starting, where ancestry is at risk"),
    *[(test, "once", 0, None, None, 30, "", "Before starting") for test in ("fbc", "platelets", "lft", "sodium")],
    # "Periodically" in the label: every 6 months is this clinic's reading of it (an admin may change it).
    *[(test, "repeat", 0, 182, None, 14, "", "Every 6 months (label: periodically)")
      for test in ("fbc", "platelets", "lft", "sodium")],
]
MHRA_VALPROATE = ("MHRA valproate Pregnancy Prevention Programme (PREVENT); Depakote US label boxed warning "
                  "(CLINICAL.md b9, b11). Waive it (monitoring exception) for a patient who cannot become pregnant.")


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    MonitoringProtocol = apps.get_model("medications", "MonitoringProtocol")
    MonitoringStep = apps.get_model("medications", "MonitoringStep")
    Medication = apps.get_model("medications", "Medication")
    protocols = {p.code: p for p in MonitoringProtocol.objects.all()}
    for name, drug_class, frequencies, low, high, hours, protocol, source in INJECTABLES:
        Medication.objects.update_or_create(
            name=name,
            defaults=dict(
                drug_class=drug_class, unit="mg", max_daily_dose=Decimal(high), max_dose_source=source,
                monitoring_protocol=protocols.get(protocol), long_acting_injectable=True,
                injection_frequencies=frequencies, min_dose_per_injection=Decimal(low),
                max_dose_per_injection=Decimal(high), post_injection_observation_hours=hours,
            ),
        )
    carbamazepine, _ = MonitoringProtocol.objects.get_or_create(
        code="carbamazepine",
        defaults=dict(
            name="Carbamazepine",
            description="HLA-B*1502 genotype before starting where the patient's ancestry is at risk (SJS/TEN); "
            "full blood count, platelets, LFTs and sodium before starting, then periodically (every 6 months "
            "here).",
            source=TEGRETOL,
        ),
    )
    if not carbamazepine.steps.exists():
        MonitoringStep.objects.bulk_create(
            MonitoringStep(protocol=carbamazepine, position=position, test=test, kind=kind, offset_days=offset,
                           interval_days=interval, until_day=until, window_days=window, rule=rule, label=label)
            for position, (test, kind, offset, interval, until, window, rule, label) in enumerate(CARBAMAZEPINE_STEPS)
        )
    Medication.objects.filter(name="Carbamazepine").update(monitoring_protocol=carbamazepine)
    valproate = protocols.get("valproate")
    if valproate is not None and not valproate.steps.filter(test="pregnancy_test").exists():
        MonitoringStep.objects.create(
            protocol=valproate, position=99, test="pregnancy_test", kind="once", offset_days=0, window_days=7,
            label="Before starting (Pregnancy Prevention Programme)",
        )
        valproate.source = f"{valproate.source}; {MHRA_VALPROATE}"
        valproate.save(update_fields=["source"])


def _model(apps, name):  # type: ignore[no-untyped-def]
    try:
        return apps.get_model("medications", name)
    except LookupError:  # its migration is not applied in this state
        return None


def _raw_delete(queryset):  # type: ignore[no-untyped-def]
    queryset._raw_delete(queryset.db)


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Take out what load() put in. Raw deletes throughout: in a reverse migration Django's deletion
    collector trips over the historical models (`Cannot query "Medication object (50)": Must be
    "Medication" instance`), so dependants are removed by id first, as the collector would have.

    An injectable a regimen or an interaction rule points at stays (both protect it; load() updates
    it in place when run again); its own properties and dose limits go with the ones that go."""
    Medication = apps.get_model("medications", "Medication")
    MonitoringStep = apps.get_model("medications", "MonitoringStep")
    MonitoringProtocol = apps.get_model("medications", "MonitoringProtocol")
    Regimen = apps.get_model("medications", "Regimen")
    InteractionRule = apps.get_model("medications", "InteractionRule")
    protected = set(Regimen.objects.values_list("medication_id", flat=True))
    protected |= set(InteractionRule.objects.values_list("medication_a_id", flat=True))
    protected |= set(InteractionRule.objects.values_list("medication_b_id", flat=True))
    ids = [
        pk
        for pk in Medication.objects.filter(name__in=[row[0] for row in INJECTABLES]).values_list("pk", flat=True)
        if pk not in protected
    ]
    for name in ("DrugProperty", "DoseLimit"):  # on_delete=CASCADE from Medication
        dependant = _model(apps, name)
        if dependant is not None:
            _raw_delete(dependant.objects.filter(medication_id__in=ids))
    _raw_delete(Medication.objects.filter(pk__in=ids))

    _raw_delete(
        MonitoringStep.objects.filter(
            protocol_id__in=MonitoringProtocol.objects.filter(code="valproate").values("pk"), test="pregnancy_test"
        )
    )
    carbamazepine = list(MonitoringProtocol.objects.filter(code="carbamazepine").values_list("pk", flat=True))
    # load() linked Carbamazepine to it; any other link (an admin's) has to go with the protocol.
    Medication.objects.filter(monitoring_protocol_id__in=carbamazepine).update(monitoring_protocol=None)
    _raw_delete(MonitoringStep.objects.filter(protocol_id__in=carbamazepine))
    _raw_delete(MonitoringProtocol.objects.filter(pk__in=carbamazepine))


class Migration(migrations.Migration):
    dependencies = [("medications", "0004_b_critical_results_exceptions_injections")]

    operations = [migrations.RunPython(load, unload)]
