"""The problem list: free-text diagnoses, each with an optional ICD-10 code."""

import re
from typing import Any

from django.core.exceptions import ValidationError

# ICD-10 code shape (WHO ICD-10 / ICD-10-CM): letter, two characters, optional dot extension.
ICD10_CODE = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
MAX_DIAGNOSES = 30


def diagnoses_from_lines(text: str) -> list[dict[str, str]]:
    """One diagnosis a line, as typed in the care plan form: "F32.1 Major depressive disorder"."""
    entries = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        first, _, rest = line.partition(" ")
        candidate = first.upper().rstrip(":")
        if ICD10_CODE.match(candidate):
            entries.append({"code": candidate, "description": rest.strip(" -:")})
        else:
            entries.append({"code": "", "description": line})
    return diagnoses_clean(entries)


def diagnoses_to_lines(diagnoses: list[dict[str, str]]) -> str:
    return "\n".join(f"{d['code']} {d['description']}".strip() for d in diagnoses)


def diagnoses_clean(value: Any) -> list[dict[str, str]]:
    """Validate a diagnosis list from a form or the API; raises ValidationError naming the line."""
    if not isinstance(value, list):
        raise ValidationError("Expected a list of diagnoses.")
    if len(value) > MAX_DIAGNOSES:
        raise ValidationError(f"At most {MAX_DIAGNOSES} diagnoses.")
    cleaned = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise ValidationError(f"Diagnosis {number}: expected an object with code and description.")
        code = str(item.get("code", "") or "").strip().upper()
        description = str(item.get("description", "") or "").strip()
        if code and not ICD10_CODE.match(code):
            raise ValidationError(f"Diagnosis {number}: “{code}” is not an ICD-10 code (e.g. F32.1).")
        if not description and not code:
            raise ValidationError(f"Diagnosis {number}: give a description or an ICD-10 code.")
        if len(description) > 300:
            raise ValidationError(f"Diagnosis {number}: at most 300 characters.")
        cleaned.append({"code": code, "description": description})
    return cleaned
