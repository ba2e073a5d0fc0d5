"""Patient search: name (partial, case- and accent-insensitive), MRN and birth date (issue 16 item 2).

Names are matched against `Patient.search_name`, a column kept normalised in Python
(`search_name_for`): PostgreSQL's `unaccent()` is not IMMUTABLE, so it cannot back an
index, and SQLite has no unaccent at all. On PostgreSQL a pg_trgm GIN index over that column
answers `LIKE '%term%'` without a scan (migration 0006); on SQLite the same query is a scan,
which is fine at the sizes SQLite serves.
"""

import re
import unicodedata
from datetime import date, datetime

from django.db.models import Q, QuerySet

MAX_TERMS = 5  # a search is a few words; more would only multiply LIKE clauses
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def normalised(text: str) -> str:
    """Lower-case, accents stripped, whitespace collapsed: "Müller-Lüdenscheidt " -> "muller-ludenscheidt"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.split())


def search_name_for(*, given_name: str, family_name: str, preferred_name: str = "") -> str:
    """What `Patient.search_name` holds; bulk loaders (benchmarks, COPY) must fill it with this too."""
    return normalised(" ".join(part for part in (family_name, given_name, preferred_name) if part))


def _as_date(term: str) -> date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(term, pattern).date()  # noqa: DTZ007  (a calendar date, no time zone)
        except ValueError:
            continue
    return None


def patients_matching(patients: QuerySet, query: str) -> QuerySet:
    """`patients` narrowed to those matching `query`; every name term must match (AND).

    A term that is a whole date matches the birth date; the whole query also matches an MRN
    exactly or as a prefix (case-insensitive), so "A-10" finds A-100 and A-101."""
    query = " ".join(query.split())[:100]
    if not query:
        return patients
    terms = [term for term in re.split(r"[\s,]+", normalised(query)) if term][:MAX_TERMS]
    born = [day for day in (_as_date(term) for term in query.split()) if day is not None]
    name_terms = [term for term in terms if _as_date(term) is None]
    by_name = Q()
    for term in name_terms:
        # search_name is already lower-case and unaccented: a plain LIKE, which the trigram index serves.
        by_name &= Q(search_name__contains=term)
    if born:
        by_name &= Q(birth_date__in=born)
    return patients.filter(by_name | Q(mrn__istartswith=query))
