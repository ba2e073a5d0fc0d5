"""What the harness times: every page and list API that grows with the clinic, the
per-patient pages, and the floor; each with the raw SQL for the rows it shows (or should
show: a list's raw query is its first page of 50, the goal of issue 14).

Raw SQL placeholders: %(patient)s internal patient id, %(user)s the requesting user's id;
a search target's words give %(mrn_prefix)s, %(born)s and %(term0)s, %(term1)s ... (`search_params`).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # {pid} = the chart patient's public id, {q} = the search words, URL-quoted
    role: str  # admin, care_manager, prescriber, therapist
    grows: bool  # with the clinic (False: per patient, or constant)
    raw: tuple[str, ...] = ()
    # The words typed into a search; {mrn} and {born} are the chart patient's MRN and birth date.
    search: str = ""


# --- Patient search (careplans/search.py): the same WHERE the app builds -------------------
# A frozen copy of careplans.search's parsing: the harness runs outside the served checkout.
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def _normalised(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _as_date(term: str) -> date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(term, pattern).date()  # noqa: DTZ007  (a calendar date)
        except ValueError:
            continue
    return None


def _search_parts(words: str) -> tuple[list[str], list[date]]:
    terms = [t for t in re.split(r"[\s,]+", _normalised(words)) if t][:5]
    born = [d for d in (_as_date(t) for t in words.split()) if d is not None]
    return [t for t in terms if _as_date(t) is None], born


def search_params(words: str) -> dict[str, Any]:
    """The raw SQL's parameters for these words: every name term a `%term%` LIKE on
    search_name (pg_trgm GIN index), a whole date the birth date, the words an MRN prefix."""
    names, born = _search_parts(words)
    params: dict[str, Any] = {f"term{i}": f"%{term}%" for i, term in enumerate(names)}
    params["mrn_prefix"] = f"{words}%"
    if born:
        params["born"] = born[0]
    return params


def search_match(words: str) -> str:
    """The WHERE of careplans.search.patients_matching for these words, as raw SQL."""
    names, born = _search_parts(words)
    match = [f"search_name LIKE %(term{i})s" for i in range(len(names))]
    if born:
        match.append("birth_date = %(born)s")
    return f"(({' AND '.join(match) or 'true'}) OR UPPER(mrn) LIKE UPPER(%(mrn_prefix)s))"


PATIENT_COLUMNS = "id, public_id, mrn, given_name, family_name, birth_date, status"
ON_MY_TEAMS = "id IN (SELECT patient_id FROM careplans_careteammember WHERE user_id = %(user)s AND ended_at IS NULL)"
# careplans.paging.bounded_count: the API's count stops at COUNT_LIMIT (10,000).
BOUNDED_COUNT = "SELECT count(*) FROM (SELECT 1 FROM careplans_patient WHERE {where} LIMIT 10001) counted"


def search_sql(words: str, *, own: bool, counted: bool = False) -> tuple[str, ...]:
    """The first page of 50 matches (every patient's for an admin, `own` care teams' for a
    clinician), in name order; `counted`: and the API's bounded count. The statement's shape
    depends only on how many name terms and dates the words hold, so {mrn} and {born} stand in
    as any MRN and date here; the values come from `search_params` at run time."""
    words = words.format(mrn="B0", born="2000-01-01")
    where = f"{ON_MY_TEAMS} AND {search_match(words)}" if own else search_match(words)
    page = (
        f"SELECT {PATIENT_COLUMNS} FROM careplans_patient WHERE {where} ORDER BY family_name, given_name, id LIMIT 50"
    )
    return (page, BOUNDED_COUNT.format(where=where)) if counted else (page,)


# What the searches type (seed.py: family names carry a number, a tenth are Kowalski; García
# and Tomás carry accents in the data, not in the words): a trigram match in the middle of a
# common family name, given and family name without accents, the chart patient's MRN, its birth date.
SEARCHES = (
    ("partial name", "owalsk"),
    ("no accents", "tomas garcia"),
    ("MRN", "{mrn}"),
    ("birth date", "{born}"),
)


PATIENT_PAGE = f"SELECT {PATIENT_COLUMNS} FROM careplans_patient ORDER BY family_name, given_name, id LIMIT 50"
CASELOAD = (
    "SELECT p.id, p.public_id, p.mrn, p.given_name, p.family_name FROM careplans_patient p "
    "WHERE p.id IN (SELECT patient_id FROM careplans_careteammember WHERE user_id = %(user)s AND ended_at IS NULL) "
    "ORDER BY p.family_name, p.given_name, p.id LIMIT 50"
)
CASELOAD_ACTIVE_PLAN = (
    "SELECT p.id, p.public_id, p.mrn, p.given_name, p.family_name FROM careplans_patient p "
    "WHERE p.id IN (SELECT patient_id FROM careplans_careteammember WHERE user_id = %(user)s AND ended_at IS NULL) "
    "AND EXISTS (SELECT 1 FROM careplans_careplan c WHERE c.patient_id = p.id AND c.status = 'active') "
    "ORDER BY p.family_name, p.given_name, p.id LIMIT 50"
)
CHART = (
    "SELECT * FROM careplans_patient WHERE id = %(patient)s",
    "SELECT * FROM careplans_careplan WHERE patient_id = %(patient)s",
    "SELECT m.*, u.first_name, u.last_name FROM careplans_careteammember m JOIN clinic_user u ON u.id = m.user_id "
    "WHERE m.patient_id = %(patient)s",
    "SELECT * FROM outcomes_assessment WHERE patient_id = %(patient)s ORDER BY administered_on DESC LIMIT 20",
    "SELECT r.*, m.name FROM medications_regimen r JOIN medications_medication m ON m.id = r.medication_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT s.* FROM therapy_therapysession s JOIN therapy_therapycourse c ON c.id = s.course_id "
    "WHERE c.patient_id = %(patient)s ORDER BY s.session_date DESC LIMIT 20",
)
ASSESSMENTS = ("SELECT * FROM outcomes_assessment WHERE patient_id = %(patient)s ORDER BY administered_on DESC",)
MEDICATIONS = (
    "SELECT r.*, m.name FROM medications_regimen r JOIN medications_medication m ON m.id = r.medication_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT d.* FROM medications_dosechange d JOIN medications_regimen r ON r.id = d.regimen_id "
    "WHERE r.patient_id = %(patient)s",
    "SELECT * FROM medications_labresult WHERE patient_id = %(patient)s ORDER BY taken_on DESC",
)
THERAPY = (
    "SELECT * FROM therapy_therapycourse WHERE patient_id = %(patient)s",
    "SELECT s.* FROM therapy_therapysession s JOIN therapy_therapycourse c ON c.id = s.course_id "
    "WHERE c.patient_id = %(patient)s ORDER BY s.session_date DESC",
)
INBOX = (
    "SELECT r.*, p.given_name, p.family_name FROM careplans_reminder r LEFT JOIN careplans_patient p "
    "ON p.id = r.patient_id WHERE r.recipient_id = %(user)s AND r.status IN ('pending', 'sending', 'sent', 'failed') "
    "AND r.due_date <= current_date ORDER BY r.urgent DESC, r.due_date, r.id LIMIT 50",
)
# Each report for the audience that may run it (reports/base.py Audience): clinic-wide
# aggregates for the admin, caseload lists for a clinician.
REPORTS = (
    ("registry", "care_manager"),
    ("registry_summary", "admin"),
    ("missed_reviews", "care_manager"),
    ("monitoring_overdue", "prescriber"),
    ("cocm_minutes", "care_manager"),
    ("treatment_outcomes", "admin"),
    ("process", "admin"),
    ("monitoring", "admin"),
    ("therapy", "admin"),
    ("medication", "admin"),
    ("cocm_summary", "admin"),
)
WHO = {"admin": "admin", "care_manager": "cm"}

TARGETS: list[Target] = [
    Target("floor (trivial view)", "/bench/floor/", "care_manager", False),
    Target("health", "/health/", "care_manager", False),
    # Grows with the clinic
    Target("admin patient directory", "/patients/", "admin", True, (PATIENT_PAGE,)),
    Target("Today (care manager)", "/", "care_manager", True),
    Target("Today (prescriber)", "/", "prescriber", True),
    Target("API worklist (care manager)", "/api/v1/worklist/", "care_manager", True),
    Target("care manager caseload", "/caseload/", "care_manager", True, (CASELOAD,)),
    Target("caseload ?plan=active", "/caseload/?plan=active", "care_manager", True, (CASELOAD_ACTIVE_PLAN,)),
    Target(
        "caseload ?q= partial name",
        "/caseload/?q={q}",
        "care_manager",
        True,
        search_sql("owalsk", own=True),
        "owalsk",
    ),
    Target("outcomes caseload", "/outcomes/caseload/", "care_manager", True, (CASELOAD,)),
    Target("inbox", "/inbox/", "care_manager", True, INBOX),
    Target(
        "API patients (admin)",
        "/api/v1/patients/",
        "admin",
        True,
        (PATIENT_PAGE, BOUNDED_COUNT.format(where="true")),
    ),
    Target("API patients (care manager)", "/api/v1/patients/", "care_manager", True, (CASELOAD,)),
    # Patient search: the search page (where the header's search box goes) and the API's ?search=.
    *[
        Target(
            f"search {WHO[role]}: {kind}",
            "/patients/search/?q={q}",
            role,
            True,
            search_sql(words, own=role != "admin"),
            words,
        )
        for role in ("admin", "care_manager")
        for kind, words in SEARCHES
    ],
    *[
        Target(
            f"API search {WHO[role]}: {kind}",
            "/api/v1/patients/?search={q}",
            role,
            True,
            search_sql(words, own=role != "admin", counted=True),
            words,
        )
        for role in ("admin", "care_manager")
        for kind, words in SEARCHES
    ],
    Target("API reminders", "/api/v1/reminders/", "care_manager", True, INBOX),
    Target("API assessments (all)", "/api/v1/assessments/", "care_manager", True),
    Target("API regimens (all)", "/api/v1/regimens/", "prescriber", True),
    Target("API lab results (all)", "/api/v1/lab-results/", "prescriber", True),
    Target("API therapy courses (all)", "/api/v1/therapy-courses/", "therapist", True),
    Target("API safety alerts", "/api/v1/safety-alerts/", "care_manager", True),
    Target("API case reviews", "/api/v1/case-reviews/", "care_manager", True),
    Target("API audit events", "/api/v1/audit-events/", "admin", True),
    *[Target(f"report {key}", f"/reports/{key}/", role, True) for key, role in REPORTS],
    # Per patient
    Target("chart overview", "/patients/{pid}/", "care_manager", False, CHART),
    Target("chart medications", "/patients/{pid}/medications/", "prescriber", False, MEDICATIONS),
    Target("chart therapy", "/patients/{pid}/therapy/", "therapist", False, THERAPY),
    Target("chart outcomes", "/patients/{pid}/outcomes/", "care_manager", False, ASSESSMENTS),
    Target("assessment list", "/patients/{pid}/assessments/", "care_manager", False, ASSESSMENTS),
    Target("team thread", "/patients/{pid}/team/", "care_manager", False),
    Target("care team", "/patients/{pid}/care-team/", "care_manager", False, CHART[2:3]),
    Target("API patient", "/api/v1/patients/{pid}/", "care_manager", False, CHART[:1]),
    Target("API patient outcomes", "/api/v1/patients/{pid}/outcomes/", "care_manager", False, ASSESSMENTS),
    Target("API patient monitoring", "/api/v1/patients/{pid}/monitoring/", "prescriber", False, MEDICATIONS),
    Target("API assessments ?patient=", "/api/v1/assessments/?patient={pid}", "care_manager", False, ASSESSMENTS),
    Target("API regimens ?patient=", "/api/v1/regimens/?patient={pid}", "prescriber", False, MEDICATIONS[:1]),
    Target("API therapy courses ?patient=", "/api/v1/therapy-courses/?patient={pid}", "therapist", False, THERAPY),
]
