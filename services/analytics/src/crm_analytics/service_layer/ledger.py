"""Applying the ERP's messages to the sales ledger and the monthly rollups, in the caller's
transaction — the one code path of the live feed (one message per transaction, from the
consumer) and of the history import (a batch per transaction).

For a batch of envelopes:

1. each is read against the contract (``domain.ledger.read_message``); one that breaks it is
   parked in ``erp_parked`` with the reason and otherwise ignored;
2. products: the newest version is kept (an older or equal one changes nothing);
3. documents: each document's advisory lock is taken (in key order), then its stored version
   read; a document whose version is not higher than the stored one changes nothing. For the
   others, the stored version's contribution to the rollups is taken away and the new one's
   added (a cancelled or unmatched document contributes nothing), and the row replaced;
4. payments: the newest version is kept;
5. every client whose figures moved is marked for a ``client.turnover.updated`` event
   (``service_layer.turnover_events``).

Clients are matched by the CRM id the ERP sends, else by EIK, through ``client_profiles``; a
document that matches no client is stored with ``client_id`` null and matched by
:func:`match_documents` when the client appears.

Locking: advisory locks per document (taken before reading, sorted), then rollup rows in key
order: two transactions never wait on each other in a circle.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.adapters.tables import (
    client_profiles,
    erp_documents,
    erp_parked,
    erp_payments,
    erp_product_groups,
    erp_products,
    turnover_groups_monthly,
    turnover_items_monthly,
    turnover_monthly,
    turnover_publications,
)
from crm_analytics.domain.ledger import (
    ALL_COLUMNS,
    FIGURE_COLUMNS,
    Contribution,
    Document,
    Line,
    Payment,
    newest,
    read_message,
)
from crm_common.bulk import bulk_upsert, columns_except
from crm_common.erp.catalogue import ErpProduct
from crm_common.erp.contract import ContractError


@dataclass
class Outcome:
    """What a batch did: messages applied, unchanged (older or repeated), parked."""

    applied: int = 0
    unchanged: int = 0
    parked: int = 0
    clients: set[uuid.UUID] = field(default_factory=set)

    def __iadd__(self, other: Outcome) -> Outcome:
        self.applied += other.applied
        self.unchanged += other.unchanged
        self.parked += other.parked
        self.clients |= other.clients
        return self


@dataclass(frozen=True)
class Received:
    """A message read, with the envelope attributes the ledger keeps."""

    message: ErpProduct | Document | Payment
    event_id: str
    event_time: dt.datetime


def _event_time(envelope: Mapping[str, Any]) -> dt.datetime:
    raw = str(envelope.get("time", ""))
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


async def park(session: AsyncSession, reason: str, *, source: str, body: str,
               envelope: Mapping[str, Any] | None = None) -> None:
    """Keep a message that can never apply, with the reason (once per event id)."""
    envelope = envelope or {}

    def attr(name: str) -> str | None:
        value = envelope.get(name)
        return value[:200] if isinstance(value, str) else None

    statement = insert(erp_parked).values(
        event_id=attr("id"), event_type=attr("type"), subject=attr("subject"),
        reason=reason[:1000], source=source, body=body[:1_000_000].replace("\x00", "\\u0000"),
    ).on_conflict_do_nothing(index_elements=["event_id"],
                             index_where=erp_parked.c.event_id.isnot(None))
    await session.execute(statement)


@dataclass(frozen=True)
class Refused:
    """A message to park: why, where it came from, and what it said."""

    reason: str
    source: str
    body: str
    envelope: Mapping[str, Any] | None = None


@dataclass
class ReadBatch:
    """Envelopes read against the contract: the messages to apply and those to park."""

    received: list[Received] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def read_envelopes(envelopes: Iterable[Mapping[str, Any]], *, source: str,
                   into: ReadBatch | None = None) -> ReadBatch:
    """Read ERP envelopes (already valid CloudEvents) against the contract (pure: the import
    does it in its reading thread, beside the database work). ``source`` says where they came
    from (``feed``, ``import FILE``) for the parked ones."""
    batch = into or ReadBatch()
    for envelope in envelopes:
        try:
            message = read_message(envelope)
        except ContractError as exc:
            batch.refused.append(Refused(
                str(exc), source, json.dumps(envelope, ensure_ascii=False, default=str),
                envelope))
            continue
        batch.received.append(Received(message, str(envelope.get("id")),
                                       _event_time(envelope)))
    return batch


async def apply_envelopes(session: AsyncSession, envelopes: Sequence[Mapping[str, Any]], *,
                          source: str) -> Outcome:
    """Read and apply ERP envelopes in the session's transaction (the live feed's path)."""
    return await apply_batch(session, read_envelopes(envelopes, source=source))


async def apply_batch(session: AsyncSession, batch: ReadBatch) -> Outcome:
    """Apply what :func:`read_envelopes` read, in the session's transaction."""
    outcome = Outcome()
    for refused in batch.refused:
        await park(session, refused.reason, source=refused.source, body=refused.body,
                   envelope=refused.envelope)
        outcome.parked += 1
    received = batch.received
    products = [r for r in received if isinstance(r.message, ErpProduct)]
    documents = [r for r in received if isinstance(r.message, Document)]
    payments = [r for r in received if isinstance(r.message, Payment)]
    if products:
        outcome += await _apply_products(session, products)
    if documents:
        outcome += await _apply_documents(session, documents)
    if payments:
        outcome += await _apply_payments(session, payments)
    await mark_dirty(session, outcome.clients)
    return outcome


def _newest(received: Sequence[Received]) -> tuple[list[Received], int]:
    """The newest of each record within the batch, and how many were superseded in it."""
    by_message = {id(r.message): r for r in received}
    kept = [by_message[id(m)] for m in newest(r.message for r in received)]
    return kept, len(received) - len(kept)


# -- products ----------------------------------------------------------------------------------


async def _apply_products(session: AsyncSession, received: Sequence[Received]) -> Outcome:
    kept, superseded = _newest(received)
    outcome = Outcome(unchanged=superseded)
    groups: dict[str, str] = {}
    rows = []
    now = dt.datetime.now(dt.UTC)
    for r in kept:
        p = r.message
        assert isinstance(p, ErpProduct)
        groups[p.group_code] = p.group_name
        rows.append({"code": p.code, "name": p.name, "group_code": p.group_code, "unit": p.unit,
                     "vat_rate": p.vat_rate, "active": p.active,
                     "base_amount": p.base_price.amount if p.base_price else None,
                     "base_currency": p.base_price.currency if p.base_price else None,
                     "version": p.version,
                     "event_time": r.event_time, "updated_at": now})
    await bulk_upsert(session, erp_product_groups,
                      [{"code": code, "name": name, "updated_at": now}
                       for code, name in groups.items()],
                      key=("code",), replace=("name", "updated_at"))
    changed = len(await bulk_upsert(
        session, erp_products, rows, key=("code",), replace=_PRODUCT_REPLACED,
        where="erp_products.version < excluded.version", returning=("code",)))
    outcome.applied += changed
    outcome.unchanged += len(rows) - changed
    return outcome


_PRODUCT_REPLACED = columns_except(erp_products, "code")


# -- documents ---------------------------------------------------------------------------------


async def lock_documents(session: AsyncSession, keys: Iterable[tuple[str, str]]) -> None:
    """Take the advisory locks of these documents, in order (held to the transaction's end)."""
    names = sorted({f"{doc_type}:{erp_id}" for doc_type, erp_id in keys})
    if not names:
        return
    await session.execute(
        sa.text("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
                "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS ordered"),
        {"keys": names})


_STORED = (erp_documents.c.doc_type, erp_documents.c.erp_id, erp_documents.c.kind,
           erp_documents.c.status, erp_documents.c.doc_date, erp_documents.c.client_id,
           erp_documents.c.lines, erp_documents.c.version, erp_documents.c.currency,
           erp_documents.c.number)


def stored_document(row: Any) -> Document:
    """The contribution-relevant part of a stored document row, as a :class:`Document`."""
    return Document(
        doc_type=row.doc_type, erp_id=row.erp_id, kind=row.kind, number=row.number,
        cancelled=row.status == "cancelled", doc_date=row.doc_date, due_date=None,
        erp_client_id=None, client_eik=None, currency=row.currency,
        lines=tuple(Line.from_json(line) for line in row.lines), gross_amount=None,
        credited_document_id=None, order_id=None, version=row.version)


async def _stored(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> dict[
        tuple[str, str], Any]:
    """The stored rows of these documents (one index probe each: ``erp_id = ANY(…)`` per id
    space; a row-value ``IN`` list is planned far worse)."""
    found: dict[tuple[str, str], Any] = {}
    d = erp_documents.c
    by_type: dict[str, list[str]] = {}
    for doc_type, erp_id in keys:
        by_type.setdefault(doc_type, []).append(erp_id)
    for doc_type, ids in by_type.items():
        rows = await session.execute(
            sa.select(*_STORED).where(d.doc_type == doc_type,
                                      d.erp_id == sa.any_(sa.cast(ids, ARRAY(sa.Text)))))
        for row in rows:
            found[(row.doc_type, row.erp_id)] = row
    return found


def _array(values: Iterable[Any], of: Any) -> Any:
    """One bound array (``= ANY(…)``) instead of an ``IN`` list of one parameter per value,
    which is a new statement for the driver to prepare at every length."""
    return sa.cast(list(values), ARRAY(of))


async def match_clients(session: AsyncSession, documents: Sequence[Document]
                        ) -> dict[tuple[str, str], uuid.UUID | None]:
    """The CRM client of each document: by the CRM id the ERP sent, else by EIK (through
    ``client_profiles``; of several clients with that EIK, the smallest id), else None."""
    ids = {u for u in (doc.crm_client_uuid() for doc in documents) if u is not None}
    eiks = {doc.client_eik for doc in documents if doc.client_eik}
    known: set[uuid.UUID] = set()
    by_eik: dict[str, uuid.UUID] = {}
    c = client_profiles.c
    if ids:
        known = set((await session.execute(
            sa.select(c.client_id).where(c.client_id == sa.any_(_array(ids, sa.Uuid)))
        )).scalars())
    if eiks:
        rows = await session.execute(
            sa.select(c.eik, sa.func.min(sa.cast(c.client_id, sa.Text)).label("first"))
            .where(c.eik == sa.any_(_array(eiks, sa.Text))).group_by(c.eik))
        by_eik = {row.eik: uuid.UUID(row.first) for row in rows}
    matched: dict[tuple[str, str], uuid.UUID | None] = {}
    for doc in documents:
        crm_id = doc.crm_client_uuid()
        if crm_id is not None and crm_id in known:
            matched[doc.key] = crm_id
        else:
            matched[doc.key] = by_eik.get(doc.client_eik) if doc.client_eik else None
    return matched


def _document_row(doc: Document, client_id: uuid.UUID | None, r: Received) -> dict[str, Any]:
    crm_id = doc.crm_client_uuid()
    gross_eur = doc.gross_amount_eur
    return {
        "doc_type": doc.doc_type, "erp_id": doc.erp_id, "kind": doc.kind, "number": doc.number,
        "status": doc.status, "doc_date": doc.doc_date, "due_date": doc.due_date,
        "client_id": client_id,
        "erp_client_id": str(crm_id) if crm_id is not None else doc.erp_client_id,
        "client_eik": doc.client_eik, "currency": doc.currency,
        "net_amount": doc.net_amount, "net_amount_eur": doc.net_amount_eur,
        "gross_amount": doc.gross_amount, "gross_amount_eur": gross_eur,
        "quantity": doc.quantity, "line_count": len(doc.lines),
        "lines": orjson.dumps([line.as_json() for line in doc.lines]).decode(),
        "credited_document_id": doc.credited_document_id, "order_id": doc.order_id,
        "notes": json.dumps(list(doc.notes)), "version": doc.version, "event_id": r.event_id,
        "event_time": r.event_time,
    }


_DOCUMENT_REPLACED = columns_except(erp_documents, "doc_type", "erp_id", "received_at")


async def _apply_documents(session: AsyncSession, received: Sequence[Received]) -> Outcome:
    kept, superseded = _newest(received)
    outcome = Outcome(unchanged=superseded)
    docs: dict[tuple[str, str], tuple[Document, Received]] = {}
    for r in kept:
        assert isinstance(r.message, Document)
        docs[r.message.key] = (r.message, r)
    await lock_documents(session, docs)
    stored = await _stored(session, list(docs))
    changed = [(doc, r) for key, (doc, r) in docs.items()
               if key not in stored or doc.version > stored[key].version]
    outcome.unchanged += len(docs) - len(changed)
    if not changed:
        return outcome
    matched = await match_clients(session, [doc for doc, _ in changed])
    contribution = Contribution()
    rows = []
    for doc, r in changed:
        old = stored.get(doc.key)
        if old is not None and old.client_id is not None:
            contribution.add(old.client_id, stored_document(old), -1)
            outcome.clients.add(old.client_id)
        client_id = matched[doc.key]
        if client_id is not None:
            contribution.add(client_id, doc, +1)
            outcome.clients.add(client_id)
        rows.append(_document_row(doc, client_id, r))
    await bulk_upsert(session, erp_documents, rows, key=("doc_type", "erp_id"),
                      replace=_DOCUMENT_REPLACED)
    await apply_contribution(session, contribution)
    outcome.applied += len(changed)
    return outcome


_ITEM_COLUMNS = ("client_id", "month", "product_group_code", "product_code", *FIGURE_COLUMNS)
_GROUP_COLUMNS = ("client_id", "month", "product_group_code", *FIGURE_COLUMNS)
_MONTH_COLUMNS = ("client_id", "month", *ALL_COLUMNS)


async def apply_contribution(session: AsyncSession, contribution: Contribution) -> None:
    """Add the deltas to the rollups."""
    monthly, items, groups = contribution.nonzero()
    # the items and groups deltas carry the monthly count columns too: zip stops at the figures
    await bulk_upsert(
        session, turnover_items_monthly,
        [dict(zip(_ITEM_COLUMNS, (*k, *d), strict=False)) for k, d in items],
        key=_ITEM_COLUMNS[:4], add=FIGURE_COLUMNS)
    await bulk_upsert(
        session, turnover_groups_monthly,
        [dict(zip(_GROUP_COLUMNS, (*k, *d), strict=False)) for k, d in groups],
        key=_GROUP_COLUMNS[:3], add=FIGURE_COLUMNS)
    await bulk_upsert(
        session, turnover_monthly,
        [dict(zip(_MONTH_COLUMNS, (*k, *d), strict=True)) for k, d in monthly],
        key=_MONTH_COLUMNS[:2], add=ALL_COLUMNS)


async def match_documents(session: AsyncSession, client_id: uuid.UUID,
                          eik: str | None) -> int:
    """Match the unmatched documents that name this client (by its CRM id, or its EIK) and add
    them to its figures; return how many."""
    d = erp_documents.c
    names = [d.erp_client_id == str(client_id)]
    if eik:
        names.append(d.client_eik == eik)
    condition = sa.and_(d.client_id.is_(None), sa.or_(*names))
    keys = [(row.doc_type, row.erp_id) for row in await session.execute(
        sa.select(d.doc_type, d.erp_id).where(condition))]
    if not keys:
        return 0
    await lock_documents(session, keys)
    rows = [row for row in (await _stored(session, keys)).values() if row.client_id is None]
    contribution = Contribution()
    for row in rows:
        contribution.add(client_id, stored_document(row), +1)
    for doc_type in {row.doc_type for row in rows}:
        ids = [row.erp_id for row in rows if row.doc_type == doc_type]
        await session.execute(
            sa.update(erp_documents)
            .where(d.doc_type == doc_type, d.erp_id == sa.any_(sa.cast(ids, ARRAY(sa.Text))))
            .values(client_id=client_id))
    await apply_contribution(session, contribution)
    if rows:
        await mark_dirty(session, {client_id})
    return len(rows)


# -- payments ----------------------------------------------------------------------------------

_PAYMENT_REPLACED = columns_except(erp_payments, "payment_id", "received_at")


async def _apply_payments(session: AsyncSession, received: Sequence[Received]) -> Outcome:
    kept, superseded = _newest(received)
    outcome = Outcome(unchanged=superseded)
    rows = []
    for r in kept:
        p = r.message
        assert isinstance(p, Payment)
        rows.append({"payment_id": p.payment_id, "document_id": p.document_id,
                     "paid_on": p.paid_on, "amount": p.amount, "currency": p.currency,
                     "amount_eur": p.amount_eur, "version": p.version, "event_id": r.event_id,
                     "event_time": r.event_time})
    written = await bulk_upsert(
        session, erp_payments, rows, key=("payment_id",), replace=_PAYMENT_REPLACED,
        where="erp_payments.version < excluded.version", returning=("document_id",))
    documents = {row.document_id for row in written}
    changed = len(written)
    outcome.applied += changed
    outcome.unchanged += len(rows) - changed
    if documents:
        d = erp_documents.c
        outcome.clients |= set((await session.execute(
            sa.select(d.client_id).distinct().where(
                d.doc_type == "invoice", d.erp_id == sa.any_(_array(documents, sa.Text)),
                d.client_id.isnot(None))
        )).scalars())
    return outcome


# -- turnover events ---------------------------------------------------------------------------

async def mark_dirty(session: AsyncSession, clients: Iterable[uuid.UUID]) -> None:
    """Note that these clients' figures changed (their turnover event is due)."""
    marked = set(clients)
    if not marked:
        return
    now = dt.datetime.now(dt.UTC)
    await bulk_upsert(session, turnover_publications,
                      [{"client_id": c, "dirty_since": now} for c in marked],
                      key=("client_id",), replace=("dirty_since",),
                      where="turnover_publications.dirty_since IS NULL")


