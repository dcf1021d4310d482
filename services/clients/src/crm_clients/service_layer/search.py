"""Free-text search over clients (DESIGN §7): Cyrillic and Latin, case-insensitive,
typo-tolerant, best match first.

Each client has two columns kept by the SQL function ``crm_refresh_search`` (migration 0002):
``search_names`` — the lower-case legal and trade name and contact persons' names, plus their
Bulgarian transliteration when Cyrillic, so "petrov" finds "Петров" — and ``search_document`` —
those plus the code, EIK, VAT number, phones (E.164 and national ``0…`` form) and e-mails of the
client and its contacts. Each has a GIN trigram index (``pg_trgm``). Every word of four letters
or more of the term must match, either way:

* ``search_names %> word`` — word similarity of at least 0.6 (pg_trgm's default threshold);
* one slip (``crm_slip_match``, migration 0006): a word of the names of five letters
  or more is one letter missing, added or wrong, or two neighbours swapped away from ``word``
  (similarity alone let "тракиски" miss "тракийски", 0.58). The index finds its candidates
  through ``search_names %>> word`` (strict word similarity) at the lowest similarity one slip
  can leave for the term's shortest word (``client_queries.slip_candidates``); words with
  digits (EIKs, phones) never take this branch;
* ``search_document LIKE %word%`` — exact substrings, e.g. the middle of a phone number or an EIK.

Shorter words only rank. Results are ordered by ``word_similarity(term, search_names)`` (then
name, id) and keyset-paged on that order. Matching typos against the short names column keeps
the index recheck cheap (the first version matched the ~650-character whole document: ~15×
slower). Terms shorter than two characters are refused (they match everything).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MIN_TERM = 2
MAX_TERM = 200

_REFRESH = text("SELECT crm_refresh_search(:id)")


#: the client's columns ``crm_refresh_search`` reads (with its contact persons' names, phones and
#: e-mails): a change to any other column (notes, terms, group, …) leaves the document as it is
SEARCHED_COLUMNS = frozenset({"legal_name", "trade_name", "code", "eik", "vat_number", "phones",
                              "emails"})


def changes_search(changed: Iterable[str]) -> bool:
    """Whether a change of these client columns changes the client's search document."""
    return not SEARCHED_COLUMNS.isdisjoint(changed)


async def refresh_search_document(session: AsyncSession, client_id: uuid.UUID) -> None:
    """Rebuild the client's search document (call after changing what it is built from)."""
    await session.execute(_REFRESH, {"id": client_id})


def normalise_term(raw: str) -> str:
    """Lower case, inner whitespace collapsed; ``ValueError`` when too short or too long."""
    term = " ".join(raw.split()).lower()
    if len(term) < MIN_TERM:
        raise ValueError(f"search needs at least {MIN_TERM} characters")
    if len(term) > MAX_TERM:
        raise ValueError(f"search takes at most {MAX_TERM} characters")
    if any(ord(ch) < 32 for ch in term):
        raise ValueError("search contains control characters")
    return term
