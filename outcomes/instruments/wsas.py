"""WSAS, the Work and Social Adjustment Scale (functioning).

Source: Mundt JC, Marks IM, Shear MK, Greist JH. The Work and Social Adjustment
Scale: a simple measure of impairment in functioning. Br J Psychiatry
2002;180:461-464 (doi 10.1192/bjp.180.5.461). Scale copyright Isaac M. Marks.
Five items scored 0 (not at all impaired) to 8 (very severely impaired), total
0-40. Mundt 2002: scores above 20 suggest moderately severe or worse
psychopathology; 10-20 are associated with significant functional impairment but
less severe symptoms; below 10 with subclinical populations. Those three bands
map onto the shared severity codes minimal / moderate / moderately_severe, with
Mundt's words as labels. No remission threshold is published, and no LOINC code
for the WSAS was found in the sources we hold.
"""

from outcomes.instruments.base import AnswerOption, Band, Instrument, InstrumentCode, Item, Severity

INSTRUMENT = Instrument(
    code=InstrumentCode.WSAS,
    name="Work and Social Adjustment Scale (WSAS)",
    slug="wsas",
    preamble="Because of my problem, how impaired is my ability to carry out each of these "
    "activities? 0 means not at all impaired and 8 means very severely impaired.",
    items=(
        Item(1, "Because of my problem my ability to work is impaired."),
        Item(
            2,
            "Because of my problem my home management (cleaning, tidying, shopping, cooking, "
            "looking after home or children, paying bills) is impaired.",
        ),
        Item(
            3,
            "Because of my problem my social leisure activities (with other people, e.g. "
            "parties, bars, clubs, outings, visits, dating, home entertaining) are impaired.",
        ),
        Item(
            4,
            "Because of my problem my private leisure activities (done alone, such as reading, "
            "gardening, collecting, sewing, walking alone) are impaired.",
        ),
        Item(
            5,
            "Because of my problem my ability to form and maintain close relationships with "
            "others, including those I live with, is impaired.",
        ),
    ),
    options=(
        AnswerOption(0, "0 – Not at all"),
        AnswerOption(1, "1"),
        AnswerOption(2, "2 – Slightly"),
        AnswerOption(3, "3"),
        AnswerOption(4, "4 – Definitely"),
        AnswerOption(5, "5"),
        AnswerOption(6, "6 – Markedly"),
        AnswerOption(7, "7"),
        AnswerOption(8, "8 – Very severely"),
    ),
    bands=(
        Band(0, 9, Severity.MINIMAL, "Subclinical"),
        Band(10, 20, Severity.MODERATE, "Significant functional impairment", "Significant"),
        Band(21, 40, Severity.MODERATELY_SEVERE, "Moderately severe or worse", "Mod. severe+"),
    ),
    source="Mundt, Marks, Shear & Greist, Br J Psychiatry 2002;180:461-464",
)
