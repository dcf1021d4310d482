"""The MongoDB-wire server of ``./crm up`` / ``./crm test``: start, GridFS round trip, stop."""

from __future__ import annotations

import hashlib
import os

from gridfs import AsyncGridFSBucket
from pymongo import AsyncMongoClient

from crm_dev import mongo, procs

SIZE = 5 * 1024 * 1024 + 12345  # a few MB, not a multiple of the chunk size
PIECE = 256 * 1024


async def test_gridfs_round_trip_then_stop(tmp_path):
    server = mongo.start(tmp_path / "data", log=tmp_path / "nx.log")
    pid, port = server.pid, server.port
    try:
        assert procs.port_open("127.0.0.1", port)
        client = AsyncMongoClient(server.url, serverSelectionTimeoutMS=5000)
        try:
            bucket = AsyncGridFSBucket(client["crm_dev_test"], bucket_name="attachments")
            payload = os.urandom(SIZE)
            sent = hashlib.sha256(payload).hexdigest()

            upload = bucket.open_upload_stream("blob.bin", metadata={"contentType": "x/test"})
            for offset in range(0, SIZE, PIECE):
                await upload.write(payload[offset:offset + PIECE])
            await upload.close()

            download = await bucket.open_download_stream(upload._id)
            received = hashlib.sha256()
            length = 0
            while chunk := await download.read(PIECE):
                received.update(chunk)
                length += len(chunk)
            await download.close()
            assert length == SIZE
            assert received.hexdigest() == sent
        finally:
            await client.close()
    finally:
        server.stop()

    assert not server.child.alive()
    assert not server.child.group_alive()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:  # pragma: no cover
        raise AssertionError(f"nx-27017 (pid {pid}) is still running")
    assert not procs.port_open("127.0.0.1", port)
    assert (tmp_path / "data").is_dir()
