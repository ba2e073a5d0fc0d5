"""CSV export of a report, safe to open in a spreadsheet (SECURITY.md IV-3).

A text cell starting with = + - @, a tab or a carriage return could be run as a formula
(=HYPERLINK(...), +cmd|...); such cells get a leading apostrophe (OWASP "CSV injection").
Control, bidi-override and zero-width characters are stripped from every text cell.
Numbers the report computed are written as numbers: a number is never a formula.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from clinic.validators import strip_unsafe_characters
from reports.base import Column, ReportResult, Section

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        # Flags are (key, label) pairs: the label is what a reader wants.
        value = "; ".join(str(item[1]) if isinstance(item, tuple) else str(item) for item in value)
    # Control, bidi-override and zero-width characters go first (issue 12 item 8): they could
    # reverse a name in the spreadsheet or hide a formula start behind an invisible character.
    text = strip_unsafe_characters(str(value))
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def section_lines(section: Section, rows: Iterable[dict[str, Any]] | None = None) -> Iterable[list[str]]:
    columns: list[Column] = section.columns
    yield [csv_cell(column.label) for column in columns]
    for row in section.rows if rows is None else rows:
        yield [csv_cell(row.get(column.key)) for column in columns]


def result_to_csv(result: ReportResult) -> str:
    """Every section, each under its title, separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(result.report.title)])
    period = f"{result.params.start.isoformat()} to {result.params.end.isoformat()}"
    writer.writerow(
        [
            csv_cell("As of" if not result.report.uses_period else "Period"),
            csv_cell(result.params.today.isoformat() if not result.report.uses_period else period),
        ]
    )
    if result.params.clinician is not None:
        writer.writerow(
            ["Clinician", csv_cell(result.params.clinician.get_full_name() or result.params.clinician.username)]
        )
    for section in result.sections:
        writer.writerow([])
        writer.writerow([csv_cell(section.title)])
        writer.writerows(section_lines(section))
    return out.getvalue()
