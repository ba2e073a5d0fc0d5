"""Minutes in a month -> CMS collaborative-care codes, at every boundary (cocm/billing.py;
CLINICAL.md row "CoCM billing (US)"; G2214 per CMS CY2021 PFS)."""

from datetime import date

import pytest

from cocm.billing import month_codes, months_billed


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (15, ()),
        (16, (("G2214", 1),)),  # G2214 from its midpoint
        (69, (("G2214", 1),)),  # first month: 99492 needs its 70 minutes
        (70, (("99492", 1),)),
        (99, (("99492", 1),)),
        (100, (("99492", 1), ("99494", 1))),  # 70 + one full 30
        (129, (("99492", 1), ("99494", 1))),
        (130, (("99492", 1), ("99494", 2))),
    ],
)
def test_first_month_of_an_episode(minutes, codes):
    assert month_codes(minutes, first_month=True) == codes


@pytest.mark.parametrize(
    ("minutes", "codes"),
    [
        (15, ()),
        (16, (("G2214", 1),)),
        (30, (("G2214", 1),)),
        (31, (("99493", 1),)),  # the midpoint of 99493's 60 minutes (CLINICAL.md)
        (60, (("99493", 1),)),
        (89, (("99493", 1),)),
        (90, (("99493", 1), ("99494", 1))),  # 60 + one full 30
        (120, (("99493", 1), ("99494", 2))),
    ],
)
def test_subsequent_month(minutes, codes):
    assert month_codes(minutes, first_month=False) == codes


def test_first_month_of_an_episode_and_a_new_episode_after_six_months_without_time():
    months = months_billed(
        [
            (date(2025, 1, 1), 70),
            (date(2025, 2, 1), 31),
            (date(2025, 3, 1), 30),
            # April to September: six months without time -> October starts a new episode
            (date(2025, 10, 1), 70),
            (date(2025, 11, 1), 40),
        ]
    )
    assert [(m.month.month, m.first_month, m.label) for m in months] == [
        (1, True, "99492"),
        (2, False, "99493"),
        (3, False, "G2214"),
        (10, True, "99492"),
        (11, False, "99493"),
    ]


def test_five_empty_months_keep_the_episode():
    months = months_billed([(date(2025, 1, 1), 80), (date(2025, 7, 1), 80)])  # Feb-Jun: five empty months
    assert [m.first_month for m in months] == [True, False]
    assert months[1].label == "99493"
    months = months_billed([(date(2025, 1, 1), 80), (date(2025, 8, 1), 80)])  # Feb-Jul: six
    assert [m.first_month for m in months] == [True, True]


@pytest.mark.django_db
def test_the_sql_form_of_the_rule_bills_every_month_as_the_python_rule_does():
    """reports/cocm_minutes.py bills the clinic's months in the database: same codes, 0-200 minutes."""
    from django.db import connection

    from cocm.billing import month_codes_sql

    rows = [(minutes, first) for minutes in range(0, 201) for first in (0, 1)]
    values = " UNION ALL ".join("SELECT %s AS minutes, %s AS first_month" for _ in rows)
    codes = month_codes_sql("minutes", "first_month")
    selected = ", ".join(f"{sql} AS c{index}" for index, sql in enumerate(codes.values()))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT minutes, first_month, {selected} FROM ({values}) AS m ORDER BY minutes, first_month",  # noqa: S608
            [value for row in rows for value in row],
        )
        found = cursor.fetchall()
    assert len(found) == len(rows)
    for minutes, first, *units in found:
        in_sql = tuple((code, int(n)) for code, n in zip(codes, units, strict=True) if n)
        assert in_sql == month_codes(minutes, first_month=bool(first)), (minutes, first)
