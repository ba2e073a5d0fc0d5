"""RxNorm ingredient codes for the catalog (issue 18: FHIR MedicationRequest.medicationCodeableConcept).

Source: NLM RxNorm (https://www.nlm.nih.gov/research/umls/rxnorm/), the ingredient concept
(TTY=IN) of each drug, as RxNav shows it. Salts and depot esters (decanoate, palmitate,
pamoate, monohydrate) carry their base ingredient's IN code: RxNorm files them as precise
ingredients (PIN) of it. Two-ingredient products carry the first ingredient (see comments).
"""

from django.db import migrations, models

RXNORM_IN = {
    "Alprazolam": "596",
    "Amitriptyline": "704",
    "Amphetamine mixed salts": "725",  # amphetamine
    "Aripiprazole": "89013",
    "Aripiprazole lauroxil LAI": "89013",  # aripiprazole (ingredient family)
    "Aripiprazole monohydrate LAI": "89013",
    "Bupropion XL": "42347",
    "Buspirone": "1827",
    "Carbamazepine": "2002",
    "Cariprazine": "1667655",
    "Ciprofloxacin": "2551",
    "Citalopram": "2556",
    "Clarithromycin": "21212",
    "Clomipramine": "2597",
    "Clonazepam": "2598",
    "Clozapine": "2626",
    "Dextromethorphan": "3289",
    "Diazepam": "3322",
    "Divalproex sodium (valproate)": "11118",  # valproic acid
    "Duloxetine": "72625",
    "Enalapril": "3827",
    "Escitalopram": "321988",
    "Eszopiclone": "461016",
    "Ethinylestradiol/levonorgestrel (combined oral contraceptive)": "4124",  # ethinyl estradiol
    "Fluconazole": "4450",
    "Fluoxetine": "4493",
    "Fluphenazine decanoate": "4496",  # fluphenazine
    "Fluvoxamine": "42355",
    "Haloperidol": "5093",
    "Haloperidol decanoate": "5093",
    "Hydrochlorothiazide": "5487",
    "Ibuprofen": "5640",
    "Ketoconazole": "6135",
    "Lamotrigine": "28439",
    "Linezolid": "190376",
    "Lisdexamfetamine": "700810",
    "Lisinopril": "29046",
    "Lithium carbonate": "42351",
    "Lorazepam": "6470",
    "Losartan": "52175",
    "Lurasidone": "1040028",
    "Methadone": "6813",
    "Methimazole": "6835",
    "Methylene blue": "6878",
    "Methylphenidate": "6901",
    "Mirtazapine": "15996",
    "Naproxen": "7258",
    "Nortriptyline": "7531",
    "Olanzapine": "61381",
    "Olanzapine pamoate LAI": "61381",
    "Omeprazole": "7646",
    "Ondansetron": "26225",
    "Oxycodone": "7804",
    "Paliperidone ER": "679314",
    "Paliperidone palmitate 1-monthly": "679314",
    "Paliperidone palmitate 3-monthly": "679314",
    "Paliperidone palmitate 6-monthly": "679314",
    "Paroxetine": "32937",
    "Phenelzine": "8123",
    "Quetiapine": "51272",
    "Rifampicin": "9384",  # rifampin
    "Risperidone": "35636",
    "Risperidone long-acting injection": "35636",
    "Sertraline": "36437",
    "Sumatriptan": "37418",
    "Tramadol": "10689",
    "Tranylcypromine": "10734",
    "Trazodone": "10737",
    "Venlafaxine XR": "39786",
    "Vortioxetine": "1455099",
    "Warfarin": "11289",
    "Ziprasidone": "115698",
    "Zolpidem": "39993",
}


def codes_set(apps, schema_editor):
    Medication = apps.get_model("medications", "Medication")
    for name, code in RXNORM_IN.items():
        Medication.objects.filter(name=name).update(rxnorm=code)


def codes_clear(apps, schema_editor):
    apps.get_model("medications", "Medication").objects.update(rxnorm="")


class Migration(migrations.Migration):
    dependencies = [("medications", "0005_merge_safety_halves")]

    operations = [
        migrations.AddField(
            model_name="medication",
            name="rxnorm",
            field=models.CharField(
                blank=True,
                help_text="RxNorm ingredient concept (TTY=IN, NLM RxNorm): the code FHIR MedicationRequests carry.",
                max_length=12,
                verbose_name="RxNorm RXCUI",
            ),
        ),
        migrations.RunPython(codes_set, codes_clear),
    ]
