"""Read side of clients and their dossiers: query functions, not aggregates. Access is applied
here, in the service layer.

Each function takes the autocommit reader engine and checks out its own connection, so that
DataLoaders running concurrently never share one, and a read costs one round trip.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    RowMapping,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import (
    addresses,
    bank_accounts,
    clients,
    contact_persons,
    contracts,
)
from crm_clients.domain.contract import ContractStatus, business_today
from crm_clients.service_layer import visibility
from crm_common.auth import Principal
from crm_common.db import fetch_rows
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.paging import IDS, Page, keyset_page

Row = RowMapping

# The DataLoaders' statements are built once and take the ids as one array parameter
# (``= ANY(:ids)``): the SQL text is the same for any number of ids, so SQLAlchemy's compiled
# cache and asyncpg's prepared statements are reused (an ``IN`` list is re-rendered per call).
#: what a read of clients returns: every column but the two search columns, which only the
#: search's WHERE reads (two thirds of a row's bytes: 457 + 204 of ~1,000 on the bench data)
READ_COLUMNS = tuple(c for c in clients.c if c.key not in {"search_names", "search_document"})
_CLIENTS_BY_IDS = select(*READ_COLUMNS).where(clients.c.id == any_(IDS))
# A rep's variant: the access rule's condition (visibility.OWNED_OR_GRANTED) is one object over
# bind parameters, so this statement is built, and compiled, once; the rule's values come with
# the ids as parameters.
_VISIBLE_CLIENTS_BY_IDS = _CLIENTS_BY_IDS.where(visibility.OWNED_OR_GRANTED)


def _children_statement(table: Any, *order: Any) -> Select[Any]:
    return select(table).where(table.c.client_id == any_(IDS)).order_by(*order)


_ADDRESSES = _children_statement(
    addresses, addresses.c.is_default.desc(), addresses.c.created_at, addresses.c.id)
_CONTACTS = _children_statement(
    contact_persons, contact_persons.c.is_primary.desc(), contact_persons.c.created_at,
    contact_persons.c.id)
_BANK_ACCOUNTS = _children_statement(
    bank_accounts, bank_accounts.c.is_default.desc(), bank_accounts.c.created_at,
    bank_accounts.c.id)


async def clients_by_ids(reader: AsyncEngine, principal: Principal,
                         ids: Sequence[uuid.UUID], *, grace: timedelta) -> list[Row | None]:
    """One statement for any number of ids; clients the principal may not see (DESIGN §6) come
    back as None, exactly as unknown ids do (not found)."""
    rule = visibility.client_rule(principal, grace=grace)
    if rule.condition is visibility.NO_CLIENT:
        return [None for _ in ids]
    statement = (_CLIENTS_BY_IDS if rule.condition is visibility.EVERY_CLIENT
                 else _VISIBLE_CLIENTS_BY_IDS)
    params: dict[str, Any] = {"ids": list(ids), **rule.params}
    found = {r["id"]: r for r in await fetch_rows(reader, statement, params)}
    return [found.get(i) for i in ids]


async def _children_by_client(
    reader: AsyncEngine, statement: Select[Any], client_ids: Sequence[uuid.UUID],
) -> list[list[Row]]:
    grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for r in await fetch_rows(reader, statement, {"ids": list(client_ids)}):
        grouped[r["client_id"]].append(r)
    return [grouped.get(i, []) for i in client_ids]


async def addresses_by_client(reader: AsyncEngine,
                              client_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """Callers pass only ids of clients the principal may see (resolved through the client)."""
    return await _children_by_client(reader, _ADDRESSES, client_ids)


async def contacts_by_client(reader: AsyncEngine,
                             client_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    return await _children_by_client(reader, _CONTACTS, client_ids)


async def bank_accounts_by_client(reader: AsyncEngine,
                                  client_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    return await _children_by_client(reader, _BANK_ACCOUNTS, client_ids)


@dataclass(frozen=True)
class ClientFilter:
    status: str | None = None
    owner_id: uuid.UUID | None = None
    city: str | None = None
    group_id: uuid.UUID | None = None
    #: a normalised search term (search.normalise_term); ordering is then by relevance
    search: str | None = None
    #: only clients with (True) or without (False) a contract in force today
    has_contract_in_force: bool | None = None


ORDERINGS = {
    "NAME": (clients.c.legal_name, clients.c.id),
    "CODE": (clients.c.code, clients.c.id),
    "CREATED_AT": (clients.c.created_at, clients.c.id),
}
_KEY_TYPES: dict[str, type] = {"NAME": str, "CODE": str, "CREATED_AT": datetime}
_SCORE = Float()
#: words shorter than this do not filter search results, they only rank them
SIGNIFICANT_WORD = 4
#: the word similarity (pg_trgm's ``%>``, its default threshold) that makes a match on its own
SIMILAR = 0.6
#: a word of the names this long forgives one slip in what was typed: a letter missing, added
#: or wrong, or two swapped (docs/clients.md; ``crm_slip_match``); trigram similarity alone does
#: not (a letter dropped from "тракийски" leaves 0.58). A typed word of four letters can be
#: such a word with a letter missing.
SLIP_WORD = 5
#: set on the connection before each search (the reader is in autocommit mode, so not SET
#: LOCAL): ``%>`` keeps pg_trgm's default, ``%>>`` (used by nothing else) gets
#: :func:`slip_candidates` of the term
_THRESHOLDS = text(
    f"SELECT set_config('pg_trgm.word_similarity_threshold', '{SIMILAR}', false), "
    "set_config('pg_trgm.strict_word_similarity_threshold', :slip, false)")


def _slip_words(term: str) -> list[str]:
    """The words of ``term`` that may be one slip from a word of a client's names: the
    significant ones (four letters or more: a five-letter word with a letter missing) made of
    letters only (an EIK or a phone number is matched as a substring, never with a slip)."""
    return [w for w in dict.fromkeys(term.split())
            if len(w) >= SLIP_WORD - 1 and w.isalpha()]


def slip_candidates(term: str) -> float:
    """The strict word similarity (pg_trgm, ``%>>``) below which no word of ``term`` can be one
    slip from a name's word, for the index to find the candidates of ``crm_slip_match``. A word
    of n letters has n + 1 trigrams; the worst slip, two neighbours swapped, changes four of
    them: at least (n - 3) shared of at most n + 5, e.g. 0.2 for five letters, 0.55 for
    thirteen. A typed word of four letters can only be a five-letter word with a letter
    missing: 3 shared of 8, 0.375. The shortest word decides (one threshold per statement); a
    small margin stays below the bound. 1 when no word can slip (the branch is not in the
    statement then)."""
    words = _slip_words(term)
    if not words:
        return 1.0
    n = min(len(w) for w in words)
    bound = 3 / 8 if n == SLIP_WORD - 1 else (n - 3) / (n + 5)
    return bound - 0.02


# A contract that was in force on a day: activated once (expired and terminated ones were),
# its validity covers the day and it was not terminated before it. A suspended contract is not.
_EVER_ACTIVE = (ContractStatus.ACTIVE.value, ContractStatus.EXPIRED.value,
                ContractStatus.TERMINATED.value)


def contract_in_force(day: date) -> ColumnElement[bool]:
    """A condition on ``contracts``: the contract is in force on ``day``."""
    c = contracts.c
    return and_(c.status.in_(_EVER_ACTIVE), c.activated_on.is_not(None), c.valid_from <= day,
                or_(c.valid_until.is_(None), c.valid_until >= day),
                or_(c.terminated_on.is_(None), c.terminated_on >= day))


def contract_in_force_condition(day: date) -> ColumnElement[bool]:
    """A condition on ``clients``: the client has a contract in force on ``day``."""
    return exists().where(contracts.c.client_id == clients.c.id, contract_in_force(day))


def _relevance(term: str) -> ColumnElement[float]:
    return func.word_similarity(term, clients.c.search_names)


def _word_matches(word: str) -> ColumnElement[bool]:
    """``word`` is a substring of the client's search document, or similar to a word of its
    names (word similarity at least :data:`SIMILAR`), or one slip from one of its words of
    :data:`SLIP_WORD` letters or more. Each branch is found through a trigram index; the
    cheap ones come first, so the exact slip rule runs only on what they left."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    names = clients.c.search_names
    branches: list[ColumnElement[bool]] = [
        clients.c.search_document.like(f"%{escaped}%", escape="\\"), names.op("%>")(word)]
    if _slip_words(word):  # migration 0006
        branches.append(and_(names.op("%>>")(word), func.crm_slip_match(word, names)))
    return or_(*branches)


def _matches(term: str) -> ColumnElement[bool]:
    """Every word of four letters or more must match (similar or as a substring); shorter
    words only rank. ANDing the words lets the trigram index intersect their candidates, so a
    term of two common words rechecks tens of rows, not thousands (bench/search_clients.py)."""
    words = [w for w in dict.fromkeys(term.split()) if len(w) >= SIGNIFICANT_WORD]
    return and_(*(_word_matches(w) for w in words)) if words else _word_matches(term)


def _apply_filters(stmt: Select[Any], flt: ClientFilter) -> Select[Any]:
    if flt.status:
        stmt = stmt.where(clients.c.status == flt.status)
    if flt.owner_id:
        stmt = stmt.where(clients.c.owner_id == flt.owner_id)
    if flt.group_id:
        stmt = stmt.where(clients.c.group_id == flt.group_id)
    if flt.city:
        stmt = stmt.where(exists().where(
            addresses.c.client_id == clients.c.id,
            func.lower(addresses.c.city) == flt.city.lower()))
    if flt.has_contract_in_force is not None:
        in_force = contract_in_force_condition(business_today())
        stmt = stmt.where(in_force if flt.has_contract_in_force else ~in_force)
    if flt.search:
        stmt = stmt.where(_matches(flt.search))
    return stmt


async def _search_page(reader: AsyncEngine, stmt: Select[Any], term: str, *, first: int,
                       after: str | None) -> Page:
    """Best match first: keyset on (relevance DESC, legal name, id)."""
    score = _relevance(term)
    stmt = stmt.add_columns(score.label("relevance"))
    if after:
        raw_score, raw_name, raw_id = decode_cursor(after, 3)
        try:
            cursor_score = float(raw_score)
            cursor_id = uuid.UUID(str(raw_id))
        except (TypeError, ValueError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        score_param = bindparam("cursor_score", cursor_score, type_=_SCORE)
        stmt = stmt.where(or_(
            cast(score, _SCORE) < score_param,
            and_(cast(score, _SCORE) == score_param,
                 tuple_(clients.c.legal_name, clients.c.id) > tuple_(str(raw_name), cursor_id)),
        ))
    stmt = stmt.order_by(score.desc(), clients.c.legal_name, clients.c.id).limit(first + 1)
    async with reader.connect() as conn:
        await conn.execute(_THRESHOLDS, {"slip": f"{slip_candidates(term):.3f}"})
        rows = list((await conn.execute(stmt)).mappings())
    return Page.of(rows, first, lambda r: encode_cursor(
        [float(r["relevance"]), r["legal_name"], str(r["id"])]))


#: how far below the warning's threshold the trigram index hands candidates to the recheck: the
#: index compares the float4 similarity with the setting, the filter keeps ``>= threshold``
_INDEX_MARGIN = 0.01


async def similar_clients(reader: AsyncEngine, legal_name: str, *,
                          exclude: uuid.UUID | None = None, limit: int = 5,
                          threshold: float = 0.6) -> list[Row]:
    """Non-archived clients whose legal name is very similar (trigram similarity ≥
    ``threshold``), most similar first: the duplicate warnings of createClient.

    The ``%`` operator (what the GIN trigram index answers) uses the setting
    ``pg_trgm.similarity_threshold``, 0.3 by default: at 100,000 clients the index handed
    7,000–25,000 candidates to the recheck to return ~25, 64–93 ms a create (issue 15). The
    setting is raised to just under ``threshold`` on the connection for this statement, so the
    index hands over only what the filter keeps: the same rows for 300 names, 2.6× faster on
    average (``bench/similar_names.py`` compares both on the bench data). It is left so, as the
    search leaves its thresholds (the reader is in autocommit mode, so not SET LOCAL): nothing
    else uses ``%``, and every use sets it first. The statement is built once (two shapes: with
    and without ``exclude``) and sent through asyncpg (``fetch_rows``): built per call through
    SQLAlchemy, with a third round trip to reset the setting, it had cost the service ~2 ms of
    CPU per create (docs/benchmarks.md, fifth round)."""
    index_threshold = max(0.0, min(1.0, threshold - _INDEX_MARGIN))
    params: dict[str, Any] = {"name": legal_name.lower(), "threshold": threshold,
                              "limit": limit}
    if exclude is not None:
        params["exclude"] = exclude
    return await fetch_rows(reader, _similar_statement(exclude is not None), params,
                            settings={"pg_trgm.similarity_threshold": str(index_threshold)})


@lru_cache(maxsize=2)
def _similar_statement(excluding: bool) -> Select[Any]:
    name = bindparam("name", type_=Text())
    similarity = func.similarity(func.lower(clients.c.legal_name), name)
    stmt = (select(clients.c.id, clients.c.code, clients.c.legal_name,
                   similarity.label("similarity"))
            .where(func.lower(clients.c.legal_name).op("%")(name),
                   similarity >= bindparam("threshold", type_=Float()),
                   clients.c.status != "archived")
            .order_by(similarity.desc(), clients.c.id)
            .limit(bindparam("limit", type_=Integer())))
    if excluding:
        stmt = stmt.where(clients.c.id != bindparam("exclude", type_=clients.c.id.type))
    return stmt



async def list_clients(reader: AsyncEngine, principal: Principal,
                       flt: ClientFilter, *, first: int, after: str | None,
                       order: str = "NAME", descending: bool = False,
                       grace: timedelta) -> Page:
    """A keyset page: ``WHERE (key, id) > (cursor)`` over an index, so page 10,000 costs what
    page 1 costs. Raises ``InvalidCursor`` for a cursor that is not ours."""
    key, id_col = ORDERINGS[order]
    stmt = select(*READ_COLUMNS).where(visibility.visible_clients(principal, grace=grace))
    stmt = _apply_filters(stmt, flt)
    if flt.search:
        return await _search_page(reader, stmt, flt.search, first=first, after=after)
    return await keyset_page(reader, stmt, key=key, key_type=_KEY_TYPES[order], id_col=id_col,
                             first=first, after=after, descending=descending)

__all__ = ["ClientFilter", "Page", "addresses_by_client", "bank_accounts_by_client",
           "clients_by_ids", "contacts_by_client", "list_clients", "similar_clients"]
