"""Scoring against the published tables (CLINICAL.md b1, b2; Mundt 2002 for the WSAS).

The reference tables are written out again here, from the papers, so a slip in
outcomes/instruments/ cannot hide behind itself.
"""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.instruments import INSTRUMENTS
from outcomes.scoring import assessment_score, safety_item_positive

# (low, high, code) straight from the sources.
PUBLISHED = {
    # Kroenke, Spitzer, Williams 2001: 5, 10, 15, 20 = mild, moderate, moderately severe, severe.
    "PHQ-9": [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately_severe"),
        (20, 27, "severe"),
    ],
    # Spitzer et al. 2006: 5, 10, 15 = mild, moderate, severe.
    "GAD-7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    # Mundt et al. 2002: <10 subclinical, 10-20 significant impairment, >20 moderately severe or worse.
    "WSAS": [(0, 9, "minimal"), (10, 20, "moderate"), (21, 40, "moderately_severe")],
}
ITEMS = {"PHQ-9": (9, 3), "GAD-7": (7, 3), "WSAS": (5, 8)}  # items, highest answer


def published_band(code: str, total: int) -> str:
    return next(band for low, high, band in PUBLISHED[code] if low <= total <= high)


def vector_with_total(code: str, total: int) -> list[int]:
    """A valid answer vector summing to `total` (fills items left to right)."""
    count, top = ITEMS[code]
    answers = []
    for _ in range(count):
        answer = min(top, total)
        answers.append(answer)
        total -= answer
    assert total == 0
    return answers


BOUNDARIES = [
    (code, total)
    for code, bands in PUBLISHED.items()
    for low, high, _ in bands
    for total in sorted({low, high, max(low - 1, 0), min(high + 1, bands[-1][1])})
]


@pytest.mark.parametrize(("code", "total"), BOUNDARIES)
def test_every_band_boundary_matches_the_published_table(code, total):
    score = assessment_score(instrument_code=code, responses=vector_with_total(code, total))
    assert score.total == total
    assert score.severity == published_band(code, total)


@pytest.mark.parametrize("code", list(PUBLISHED))
def test_bands_cover_every_possible_total_exactly_once(code):
    instrument = INSTRUMENTS[code]
    count, top = ITEMS[code]
    assert (len(instrument.items), instrument.max_answer, instrument.min_answer) == (count, top, 0)
    for total in range(instrument.max_total + 1):
        assert [b for b in instrument.bands if b.low <= total <= b.high] == [instrument.band_for(total)]
        assert instrument.band_for(total).severity == published_band(code, total)


def test_instruments_name_their_source_and_loinc_codes():
    assert "Kroenke" in INSTRUMENTS["PHQ-9"].source
    assert (INSTRUMENTS["PHQ-9"].loinc_panel, INSTRUMENTS["PHQ-9"].loinc_total) == ("44249-1", "44261-6")
    assert INSTRUMENTS["PHQ-9"].items[8].loinc == "44260-8"
    assert "Spitzer" in INSTRUMENTS["GAD-7"].source
    assert (INSTRUMENTS["GAD-7"].loinc_panel, INSTRUMENTS["GAD-7"].loinc_total) == ("69737-5", "70274-6")
    assert "Mundt" in INSTRUMENTS["WSAS"].source


def openemr_phq9_entry_form_band(total: int) -> str:
    """OpenEMR's PHQ-9 entry form (phq9_javasrc.js@70b11b97, CLINICAL.md b1): no "mild" band."""
    if total <= 4:
        return "minimal"
    if total <= 9:
        return "moderate"
    if total <= 19:
        return "moderately_severe"
    return "severe"


def openemr_gad7_entry_form_band(total: int) -> str:
    """OpenEMR's GAD-7 entry form (gad7_javasrc.js@6a15e37f): <5 none, 5-14 mild, >=15 severe."""
    if total < 5:
        return "minimal"
    return "mild" if total <= 14 else "severe"


@pytest.mark.parametrize(
    ("code", "wrong", "caught_at"),
    [
        ("PHQ-9", openemr_phq9_entry_form_band, {5, 9, 10, 14}),
        ("GAD-7", openemr_gad7_entry_form_band, {10, 14}),
    ],
)
def test_the_known_wrong_openemr_bands_would_fail_the_boundary_tests(code, wrong, caught_at):
    """The boundary table above is strict enough to catch the known wrong implementation."""
    failing = {total for c, total in BOUNDARIES if c == code and wrong(total) != published_band(code, total)}
    assert caught_at <= failing
    # ... and ours passes the same boundaries.
    assert all(
        assessment_score(instrument_code=code, responses=vector_with_total(code, t)).severity == published_band(code, t)
        for c, t in BOUNDARIES
        if c == code
    )


def valid_vectors(code: str) -> st.SearchStrategy[list[int]]:
    count, top = ITEMS[code]
    return st.lists(st.integers(0, top), min_size=count, max_size=count)


@pytest.mark.parametrize("code", list(PUBLISHED))
def test_total_and_band_are_right_for_every_valid_answer_vector(code):
    @settings(max_examples=1000, deadline=None)
    @given(valid_vectors(code))
    def check(answers: list[int]) -> None:
        score = assessment_score(instrument_code=code, responses=answers)
        assert score.total == sum(answers)
        assert score.severity == published_band(code, sum(answers))
        assert score.safety_item_positive == (code == "PHQ-9" and answers[8] > 0)

    check()


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(list(PUBLISHED)), data=st.data())
def test_any_vector_with_an_out_of_range_answer_is_refused(code, data):
    count, top = ITEMS[code]
    answers = data.draw(valid_vectors(code))
    position = data.draw(st.integers(0, count - 1))
    answers[position] = data.draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=top + 1)))
    with pytest.raises(ValidationError) as error:
        assessment_score(instrument_code=code, responses=answers)
    assert f"Item {position + 1}" in error.value.message_dict["responses"][0]


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ([1] * 8, "PHQ-9 has 9 items; 8 answers were sent."),
        ([1] * 10, "PHQ-9 has 9 items; 10 answers were sent."),
        ([1, 1, 1, None, 1, 1, 1, 1, 1], "Item 4 is missing an answer."),
        ([1, 1, 1, 1, 1, 1, 1, 1, 4], "Item 9: 4 is out of range; answer 0 to 3."),
        ([1, 1, 1, 1, -1, 1, 1, 1, 1], "Item 5: -1 is out of range; answer 0 to 3."),
        ([1, 1, True, 1, 1, 1, 1, 1, 1], "Item 3: answer with a whole number from 0 to 3."),
        ([1, 1, "2", 1, 1, 1, 1, 1, 1], "Item 3: answer with a whole number from 0 to 3."),
        ("111111111", "Send a list with one answer per item."),
    ],
)
def test_wrong_answers_are_refused_with_a_message_on_responses(responses, message):
    with pytest.raises(ValidationError) as error:
        assessment_score(instrument_code="PHQ-9", responses=responses)
    assert error.value.message_dict == {"responses": [message]}


@pytest.mark.parametrize("code", ["PHQ9", "phq-9", "BDI-II", "", None])
def test_unknown_instrument_is_refused(code):
    with pytest.raises(ValidationError) as error:
        assessment_score(instrument_code=code, responses=[0] * 9)
    assert "instrument" in error.value.message_dict


def test_only_phq9_item_9_is_the_safety_item():
    assert safety_item_positive("PHQ-9", [0] * 8 + [1])
    assert not safety_item_positive("PHQ-9", [3] * 8 + [0])
    assert not safety_item_positive("GAD-7", [3] * 7)
    assert not safety_item_positive("WSAS", [8] * 5)
