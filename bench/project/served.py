"""Requests served by one gunicorn, counted in a file every worker maps.

wrk counts the responses it read before its time ran out; the server may still
finish a few requests wrk had sent (up to one per connection). The counters must
equal what the server served, so the server counts it: gunicorn's
``post_request`` hook adds to a small file-backed shared map that the runner
reads directly. Two slots: 2xx responses and the others.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import struct

_FORMAT = "<qq"
SIZE = struct.calcsize(_FORMAT)


class ServedCounter:
    """A shared pair of counters; create it in gunicorn's master before forking."""

    def __init__(self, path: str) -> None:
        with open(path, "wb") as file:
            file.write(bytes(SIZE))
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SIZE)
        # Two sync workers write at once; a read-modify-write needs the lock.
        self._lock = multiprocessing.Lock()

    def add(self, ok: bool) -> None:
        with self._lock:
            counts = list(struct.unpack_from(_FORMAT, self._map))
            counts[0 if ok else 1] += 1
            struct.pack_into(_FORMAT, self._map, 0, *counts)


def read(path: str) -> tuple[int, int]:
    """(2xx responses, other responses) served so far."""
    with open(path, "rb") as file:
        return struct.unpack(_FORMAT, file.read(SIZE))
