"""GAD-7, the Generalized Anxiety Disorder scale.

Source: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing
generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097.
Seven items scored 0-3, total 0-21; "scores of 5, 10, and 15 are taken as the
cut-off points for mild, moderate and severe anxiety" (CLINICAL.md b2; same
bands in Kroenke et al., Ann Intern Med 2007). There is no "moderately severe"
band. Remission: total below 5 (DESIGN.md, measurement-based care). LOINC panel
69737-5, total 70274-6, item codes as in the LOINC panel.
"""

from outcomes.instruments.base import AnswerOption, Band, Instrument, InstrumentCode, Item, Severity

INSTRUMENT = Instrument(
    code=InstrumentCode.GAD7,
    name="Generalized Anxiety Disorder scale (GAD-7)",
    slug="gad-7",
    preamble="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        Item(1, "Feeling nervous, anxious, or on edge", "69725-0"),
        Item(2, "Not being able to stop or control worrying", "68509-9"),
        Item(3, "Worrying too much about different things", "69733-4"),
        Item(4, "Trouble relaxing", "69734-2"),
        Item(5, "Being so restless that it is hard to sit still", "69735-9"),
        Item(6, "Becoming easily annoyed or irritable", "69689-8"),
        Item(7, "Feeling afraid, as if something awful might happen", "69736-7"),
    ),
    options=(
        AnswerOption(0, "Not at all"),
        AnswerOption(1, "Several days"),
        AnswerOption(2, "More than half the days"),
        AnswerOption(3, "Nearly every day"),
    ),
    bands=(
        Band(0, 4, Severity.MINIMAL, "Minimal"),
        Band(5, 9, Severity.MILD, "Mild"),
        Band(10, 14, Severity.MODERATE, "Moderate"),
        Band(15, 21, Severity.SEVERE, "Severe"),
    ),
    source="Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-1097",
    loinc_panel="69737-5",
    loinc_total="70274-6",
    remission_below=5,
)
