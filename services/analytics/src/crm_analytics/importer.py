"""``crm-analytics import FILE``: load ERP history from NDJSON (one CloudEvent per line; ``.gz``
read compressed) through the live feed's code path (``service_layer.ledger.apply_envelopes``).

- Batches of ``--batch`` lines per transaction; each transaction also records how many lines of
  the file are done (``erp_imports``), so an interrupted import resumes where it stopped, and
  a second run of a finished file reads nothing (``--again`` reads it anyway: every message is
  then an older-or-equal version and changes nothing).
- The file is known by a key made of its size and a hash of its first MiB (hashing gigabytes
  first would cost more than the import's own reading).
- A line that is not a CloudEvent (not JSON, a missing attribute) or breaks the ERP contract is
  parked in ``erp_parked`` with its line number and the reason; the import goes on.
- Progress on stderr: a bar on a terminal, a line every few seconds otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import io
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_analytics.adapters.tables import erp_imports
from crm_analytics.service_layer.ledger import (
    Outcome,
    ReadBatch,
    Refused,
    apply_batch,
    read_envelopes,
)
from crm_common.cli import Command
from crm_common.db import make_engine
from crm_common.messaging.envelope import InvalidEnvelope, loads, validate_envelope
from crm_common.settings import database_url

DEFAULT_BATCH = 2_000
#: a line longer than this is parked unread (a 10,000-line invoice is about 1.5 MB)
MAX_LINE_BYTES = 32 * 1024 * 1024


@dataclass
class ImportResult:
    path: str
    lines: int
    applied: int
    unchanged: int
    parked: int
    skipped: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        rate = self.lines / self.seconds if self.seconds > 0 else 0.0
        return {"file": self.path, "lines": self.lines, "applied": self.applied,
                "unchanged": self.unchanged, "parked": self.parked,
                "skippedAlreadyImported": self.skipped, "seconds": round(self.seconds, 2),
                "linesPerSecond": round(rate)}


def file_key(path: Path) -> str:
    """Size and the hash of the first MiB: the same file gets the same key."""
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        digest.update(raw.read(1 << 20))
    return f"{path.stat().st_size}:{digest.hexdigest()}"


class _Progress:
    """Progress on stderr by the bytes of the file read so far."""

    def __init__(self, total_bytes: int, stream: IO[str] | None = None) -> None:
        self.total = max(total_bytes, 1)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def show(self, done_bytes: int, lines: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.25 if self.tty else 5.0):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        share = min(done_bytes / self.total, 1.0)
        rate = lines / elapsed
        eta = (elapsed / share - elapsed) if share > 0 else 0.0
        text = (f"{share * 100:5.1f}% {lines:,} lines {rate:,.0f} lines/s "
                f"elapsed {elapsed:,.0f}s eta {eta:,.0f}s")
        if self.tty:
            width = 30
            filled = int(share * width)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}"
                              + ("\n" if final else ""))
        else:
            self.stream.write(f"import: {text}\n")
        self.stream.flush()


def _identify(path: Path) -> tuple[str, int]:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return file_key(path), path.stat().st_size


def _open(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The raw file (whose position measures progress) and the stream of lines."""
    raw = path.open("rb")
    if path.suffix == ".gz":
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw, raw


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    reader: IO[bytes] = stream if isinstance(stream, io.BufferedReader) \
        else io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[type-var]
    while True:
        line = reader.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            # the rest of an overlong line: skip to its end
            while True:
                more = reader.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            yield b"\x00overlong"
            continue
        yield line


@dataclass
class _Chunk:
    """A batch read by the reading thread: up to ``batch`` lines, read against the contract."""

    read: ReadBatch
    last_line: int
    position: int
    lines: int


_DONE = object()


def _reader(path: Path, resume_at: int, batch: int, out: queue.Queue[Any],
            stop: threading.Event) -> None:
    """The reading thread: decode, check and read the file's lines into batches (JSON decoding
    and the contract checks run here, beside the database work of the batch before)."""
    try:
        raw, stream = _open(path)
        name = path.name
        try:
            lineno = 0
            chunk = _Chunk(ReadBatch(), 0, 0, 0)
            for line in _lines(stream):
                lineno += 1
                if lineno <= resume_at or not line.strip():
                    continue
                chunk.lines += 1
                document: Any = None
                try:
                    if line.startswith(b"\x00overlong"):
                        raise InvalidEnvelope(f"the line is longer than {MAX_LINE_BYTES} bytes")
                    try:
                        document = loads(line)
                    except (ValueError, RecursionError) as exc:
                        raise InvalidEnvelope(f"the line is not JSON: {exc}") from None
                    envelope = validate_envelope(document)
                except InvalidEnvelope as exc:
                    chunk.read.refused.append(Refused(
                        f"not a CloudEvent: {exc}", f"import {name}:{lineno}",
                        line[:100_000].decode("utf-8", "replace"),
                        document if isinstance(document, dict) else None))
                else:  # a message that breaks the contract is parked with its line number
                    read_envelopes((envelope,), source=f"import {name}:{lineno}",
                                   into=chunk.read)
                if chunk.lines >= batch:
                    chunk.last_line, chunk.position = lineno, raw.tell()
                    _put(out, chunk, stop)
                    chunk = _Chunk(ReadBatch(), 0, 0, 0)
            chunk.last_line, chunk.position = lineno, raw.tell()
            _put(out, chunk, stop)
        finally:
            stream.close()
            raw.close()
        _put(out, _DONE, stop)
    except BaseException as exc:  # noqa: BLE001 - handed to the importing loop
        _put(out, exc, stop)


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


async def import_file(sessions: async_sessionmaker[AsyncSession], path: Path, *,
                      batch: int = DEFAULT_BATCH, again: bool = False,
                      progress: bool = True) -> ImportResult:
    """Import ``path``; see the module docstring."""
    key, size = await asyncio.to_thread(_identify, path)
    started = time.monotonic()
    async with sessions() as session, session.begin():
        row = (await session.execute(
            sa.select(erp_imports).where(erp_imports.c.file_key == key)
            .with_for_update())).first()
        if row is None or again:
            statement = insert(erp_imports).values(
                file_key=key, path=str(path), lines_done=0, applied=0, unchanged=0, parked=0)
            await session.execute(statement.on_conflict_do_update(
                index_elements=["file_key"],
                set_={"lines_done": 0, "applied": 0, "unchanged": 0, "parked": 0,
                      "finished_at": None, "started_at": sa.func.now(), "path": str(path)}))
            resume_at = 0
        else:
            resume_at = int(row.lines_done)
            if row.finished_at is not None:
                return ImportResult(str(path), 0, 0, 0, 0, resume_at,
                                    time.monotonic() - started)
    total = Outcome()
    bar = _Progress(size) if progress else None
    chunks: queue.Queue[Any] = queue.Queue(maxsize=3)
    stop = threading.Event()
    thread = threading.Thread(target=_reader, args=(path, resume_at, batch, chunks, stop),
                              name="erp-import-reader", daemon=True)
    thread.start()
    lines = 0
    try:
        while True:
            item = await asyncio.to_thread(chunks.get)
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Chunk)
            lines += item.lines
            finished = False
            if chunks.qsize() and chunks.queue[0] is _DONE:
                finished = True
            total += await _apply_chunk(sessions, key, item, finished=finished)
            if bar:
                bar.show(item.position, lines)
        async with sessions() as session, session.begin():
            await session.execute(
                sa.update(erp_imports).where(erp_imports.c.file_key == key)
                .values(finished_at=sa.func.now()))
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 5)
    if bar:
        bar.show(size, lines, final=True)
    return ImportResult(str(path), lines, total.applied, total.unchanged, total.parked,
                        resume_at, time.monotonic() - started)


async def _apply_chunk(sessions: async_sessionmaker[AsyncSession], key: str, chunk: _Chunk,
                       *, finished: bool) -> Outcome:
    async with sessions() as session, session.begin():
        outcome = await apply_batch(session, chunk.read)
        await session.execute(
            sa.update(erp_imports).where(erp_imports.c.file_key == key).values(
                lines_done=chunk.last_line,
                applied=erp_imports.c.applied + outcome.applied,
                unchanged=erp_imports.c.unchanged + outcome.unchanged,
                parked=erp_imports.c.parked + outcome.parked,
                finished_at=sa.func.now() if finished else None))
    return outcome


# -- the command ---------------------------------------------------------------------------


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="NDJSON of ERP CloudEvents (.gz read compressed)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                        help=f"lines per transaction (default {DEFAULT_BATCH})")
    parser.add_argument("--again", action="store_true",
                        help="read a file already imported once more (changes nothing new)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    if args.batch < 1 or args.batch > 50_000:
        raise SystemExit("crm-analytics import: --batch must be between 1 and 50000")
    path: Path = args.file
    engine = make_engine(database_url("analytics", os.environ), pool_size=2)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        try:
            result = await import_file(sessions, path, batch=args.batch, again=args.again,
                                       progress=not args.quiet)
        except FileNotFoundError as exc:
            raise SystemExit(f"crm-analytics import: {exc}") from None
    finally:
        await engine.dispose()
    return result.as_json()


def _command(args: argparse.Namespace) -> Any:
    return _run(args)


import_command = Command("import", "load ERP history from an NDJSON file of CloudEvents",
                         _command, arguments=_arguments)
