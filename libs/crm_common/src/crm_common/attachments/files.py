"""File content in GridFS, through PyMongo's async bucket API only (DESIGN §3, §8).

The MongoDB-wire server used in development and tests (nx-27017) supports a streamed upload
closed normally, a streamed download, ``find`` on the files and ``delete`` of a stored file; it
cannot ``abort()`` an unfinished upload nor ``delete`` a file whose upload never closed, and plain
queries on the ``<bucket>.*`` collections do not work there. So this adapter uses the bucket
API, plus one query on the chunks of exactly the shape GridFS itself sends (``files_id`` and a
range of ``n``) to read a file a few chunks at a time. A failed upload is *closed* (its partial
file becomes a complete, deletable one) and then deleted; where the server refuses, the caller
records the file for the sweeper.

One :class:`AttachmentStore` is one bucket (``<bucket>.files`` / ``<bucket>.chunks``) of one
database; a service with several uses may share a bucket or open one per use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gridfs.asynchronous.grid_file as _grid_file
from bson import ObjectId
from bson.errors import InvalidId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

#: the bucket of the tasks service (and the default)
BUCKET = "attachments"
CHUNK_SIZE = 255 * 1024
#: PyMongo's upload stream keeps chunk documents in memory until they reach 48 MB (one
#: insert_many per message), i.e. a whole attachment below that. Make it send every 4 chunks
#: (~1 MB) instead, so that an upload holds about a megabyte whatever the file's size (the
#: memory test in services/tasks/tests/integration/test_memory.py fails without this). PyMongo
#: reads the module constant at each flush, so this applies to every bucket of the process.
UPLOAD_BATCH_BYTES = 4 * (CHUNK_SIZE + 60)
if not hasattr(_grid_file, "_UPLOAD_BUFFER_SIZE"):  # pragma: no cover - a PyMongo change
    raise ImportError("gridfs.asynchronous.grid_file._UPLOAD_BUFFER_SIZE is gone: re-check "
                      "how PyMongo batches upload chunks")
_grid_file._UPLOAD_BUFFER_SIZE = UPLOAD_BATCH_BYTES
#: chunks fetched per round trip on download (see ``AttachmentStore.read``)
DOWNLOAD_WINDOW = 4


class FileRefused(Exception):
    """The server did not do what was asked (delete refused, connection lost, ...)."""


class FileMissing(Exception):
    """No stored file has this id."""


class FileCorrupt(Exception):
    """A stored file's chunks do not add up to its length."""


def new_file_id() -> str:
    return str(ObjectId())


def _oid(file_id: str) -> ObjectId:
    try:
        return ObjectId(file_id)
    except (InvalidId, TypeError) as exc:
        raise FileMissing(file_id) from exc


class Writer:
    """One streamed upload into a file whose id was chosen (and recorded) beforehand."""

    def __init__(self, bucket: AsyncGridFSBucket, file_id: str, file_name: str,
                 metadata: dict[str, Any]) -> None:
        self._bucket = bucket
        self.file_id = file_id
        self._stream = bucket.open_upload_stream_with_id(
            _oid(file_id), file_name, chunk_size_bytes=CHUNK_SIZE, metadata=metadata)
        self._closed = False

    async def write(self, chunk: bytes) -> None:
        try:
            await self._stream.write(chunk)
        except PyMongoError as exc:
            raise FileRefused(f"writing failed: {exc}") from exc

    async def finish(self) -> None:
        try:
            await self._stream.close()
        except PyMongoError as exc:
            raise FileRefused(f"closing the upload failed: {exc}") from exc
        self._closed = True

    async def discard(self) -> None:
        """Remove what was written: close the partial file, then delete it. ``FileRefused``
        when the server refuses either step (the file is then left for the sweeper)."""
        if not self._closed:
            try:
                await self._stream.close()
                self._closed = True
            except PyMongoError as exc:
                raise FileRefused(f"closing the partial upload failed: {exc}") from exc
        await delete(self._bucket, self.file_id)


async def delete(bucket: AsyncGridFSBucket, file_id: str) -> None:
    """Delete a file; a file that is already gone counts as deleted. On MongoDB, ``NoFile``
    comes after its chunks were deleted too; nx-27017 answers an ``OperationFailure`` for a
    file whose upload never closed (refused: the sweeper retries)."""
    try:
        await bucket.delete(_oid(file_id))
    except NoFile:
        return
    except PyMongoError as exc:
        raise FileRefused(str(exc)[:500]) from exc


@dataclass
class AttachmentStore:
    client: AsyncMongoClient[dict[str, Any]]
    bucket: AsyncGridFSBucket
    #: the bucket's chunks, read in windows of chunk numbers (see ``read``)
    chunks: AsyncCollection[dict[str, Any]]

    @classmethod
    def connect(cls, url: str, database: str, bucket: str = BUCKET) -> AttachmentStore:
        """A client of ``url`` and the bucket ``bucket`` of ``database`` (nothing is sent
        until first use; :meth:`ping` checks the server)."""
        if not bucket or not bucket.replace("_", "").isalnum():
            raise ValueError(f"a bucket name is letters, digits and _, not {bucket!r}")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, socketTimeoutMS=60000,
            tz_aware=True)
        db = client[database]
        return cls(client, AsyncGridFSBucket(db, bucket_name=bucket), db[f"{bucket}.chunks"])

    def writer(self, file_id: str, file_name: str, metadata: dict[str, Any]) -> Writer:
        return Writer(self.bucket, file_id, file_name, metadata)

    async def delete(self, file_id: str) -> None:
        await delete(self.bucket, file_id)

    async def exists(self, file_id: str) -> bool:
        try:
            async for _ in self.bucket.find({"_id": _oid(file_id)}, limit=1):
                return True
        except FileMissing:
            return False
        return False

    async def read(self, file_id: str) -> AsyncIterator[bytes]:
        """The file's bytes, chunk by chunk, fetching ``DOWNLOAD_WINDOW`` chunks per query.

        ``open_download_stream``'s own reader asks for all remaining chunks in one cursor, and
        the server sends a first batch of up to 16 MB (MongoDB) or the whole file (nx-27017,
        which ignores ``batchSize`` on GridFS chunks): the file would sit in memory. So the
        download stream gives the file's length and chunk size, and the chunks are read in
        windows of chunk numbers, the query GridFS itself makes (``files_id`` and ``n``, served
        by the bucket's ``files_id_1_n_1`` index). ``FileMissing`` is raised before the first
        byte when there is no such file."""
        oid = _oid(file_id)
        try:
            stream = await self.bucket.open_download_stream(oid)
        except NoFile as exc:
            raise FileMissing(file_id) from exc
        length, chunk_size = int(stream.length), int(stream.chunk_size)
        await stream.close()
        return _windows(self.chunks, oid, length, chunk_size)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    async def close(self) -> None:
        await self.client.close()


async def _windows(chunks: AsyncCollection[dict[str, Any]], oid: ObjectId, length: int,
                   chunk_size: int) -> AsyncIterator[bytes]:
    count = -(-length // chunk_size) if length else 0
    sent = 0
    for start in range(0, count, DOWNLOAD_WINDOW):
        end = min(start + DOWNLOAD_WINDOW, count)
        try:
            docs = await chunks.find(
                {"files_id": oid, "n": {"$gte": start, "$lt": end}}, sort=[("n", 1)],
                batch_size=DOWNLOAD_WINDOW).to_list(None)
        except PyMongoError as exc:
            raise FileRefused(f"reading chunks failed: {exc}") from exc
        if [d["n"] for d in docs] != list(range(start, end)):
            raise FileCorrupt(f"file {oid}: chunks {start}..{end - 1} missing")
        for doc in docs:
            data = bytes(doc["data"])
            expected = chunk_size if doc["n"] < count - 1 else length - chunk_size * (count - 1)
            if len(data) != expected:
                raise FileCorrupt(f"file {oid}: chunk {doc['n']} has {len(data)} bytes")
            sent += len(data)
            yield data
        del docs
    if sent != length:
        raise FileCorrupt(f"file {oid}: {sent} bytes of {length}")
