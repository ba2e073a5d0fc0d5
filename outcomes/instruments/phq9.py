"""PHQ-9, the Patient Health Questionnaire depression module.

Source: Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief
depression severity measure. J Gen Intern Med 2001;16:606-613
(https://pmc.ncbi.nlm.nih.gov/articles/PMC1495268/): "PHQ-9 scores of 5, 10, 15,
and 20 represented mild, moderate, moderately severe, and severe depression".
Nine items scored 0-3, total 0-27. The tenth "difficulty" question is not part of
the total. Remission: total below 5 (Psychiatric Services 2019,
doi 10.1176/appi.ps.201900295; CMS159). LOINC panel 44249-1, total 44261-6,
item codes as in the LOINC panel (CLINICAL.md b1).
Item 9 above 0 needs a same-encounter suicide-risk assessment whatever the total
(CLINICAL.md b4): see SAFETY_ITEM.
"""

from outcomes.instruments.base import AnswerOption, Band, Instrument, InstrumentCode, Item, Severity

FREQUENCY_OPTIONS = (
    AnswerOption(0, "Not at all"),
    AnswerOption(1, "Several days"),
    AnswerOption(2, "More than half the days"),
    AnswerOption(3, "Nearly every day"),
)

# The item whose positive answer raises an urgent safety alert (1-based).
SAFETY_ITEM = 9

INSTRUMENT = Instrument(
    code=InstrumentCode.PHQ9,
    name="Patient Health Questionnaire (PHQ-9)",
    slug="phq-9",
    preamble="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=(
        Item(1, "Little interest or pleasure in doing things", "44250-9"),
        Item(2, "Feeling down, depressed, or hopeless", "44255-8"),
        Item(3, "Trouble falling or staying asleep, or sleeping too much", "44259-0"),
        Item(4, "Feeling tired or having little energy", "44254-1"),
        Item(5, "Poor appetite or overeating", "44251-7"),
        Item(
            6,
            "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
            "44258-2",
        ),
        Item(7, "Trouble concentrating on things, such as reading the newspaper or watching television", "44252-5"),
        Item(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite — being so fidgety or restless that you have been moving around a lot "
            "more than usual",
            "44253-3",
        ),
        Item(9, "Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
    ),
    options=FREQUENCY_OPTIONS,
    bands=(
        Band(0, 4, Severity.MINIMAL, "None–minimal"),
        Band(5, 9, Severity.MILD, "Mild"),
        Band(10, 14, Severity.MODERATE, "Moderate"),
        Band(15, 19, Severity.MODERATELY_SEVERE, "Moderately severe"),
        Band(20, 27, Severity.SEVERE, "Severe"),
    ),
    source="Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613",
    loinc_panel="44249-1",
    loinc_total="44261-6",
    remission_below=5,
)
