"""Counting round trips: socket sends in this process, commands on the servers."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import redis
from pymemcache.client.base import Client as MemcacheClient


@contextmanager
def socket_sends():
    """Count ``sendall`` calls: one per request to a cache server (pymemcache
    and redis-py send each request, or each pipeline, with one ``sendall``)."""
    sent: list[int] = []
    original = socket.socket.sendall

    def counting(sock, data, *args):
        sent.append(len(data))
        return original(sock, data, *args)

    socket.socket.sendall = counting
    try:
        yield sent
    finally:
        socket.socket.sendall = original


_MEMCACHED_COMMANDS = (
    "cmd_get",
    "cmd_set",
    "cmd_touch",
    "incr_hits",
    "incr_misses",
    "decr_hits",
    "decr_misses",
    "delete_hits",
    "delete_misses",
)


def memcached_commands(location: str) -> int:
    """Commands memcached has executed (a multi-get of n keys counts n gets)."""
    host, port = location.rsplit(":", 1)
    client = MemcacheClient((host, int(port)))
    try:
        stats = client.stats()
    finally:
        client.close()
    return sum(int(stats.get(name.encode(), 0)) for name in _MEMCACHED_COMMANDS)


def redis_commands(url: str) -> int:
    """Commands Redis has executed, from ``INFO commandstats``.

    Commands run inside a Lua script count too, and so does this INFO.
    """
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(entry["calls"] for entry in stats.values())


def redis_commands_by_name(url: str) -> dict[str, int]:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {
        name.removeprefix("cmdstat_"): entry["calls"] for name, entry in stats.items()
    }
