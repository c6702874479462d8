"""One benchmark run, from starting the servers to writing the table."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from bench.servers import Processes, ensure_memcached, ensure_redis, free_port


def _recreate_postgres_database(url: str) -> None:
    """A fresh database for each run: the peers' tables start empty too."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _configure(args, tmp: Path, peers: bool) -> dict[str, str]:
    if args.smoke:  # private servers on free ports: nothing shared, nothing left
        memcached_port, redis_port = free_port(), free_port()
    else:
        memcached_port, redis_port = args.memcached_port, args.redis_port
    env = {
        "BENCH_MEMCACHED": f"127.0.0.1:{memcached_port}",
        "BENCH_REDIS": f"redis://127.0.0.1:{redis_port}/0",
        "BENCH_DB": args.postgres or str(tmp / "bench.sqlite3"),
        "BENCH_FOLD_SQLITE": str(tmp / "fold.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "bench.project.settings",
    }
    os.environ.update(env)
    # This process reads every server's counts: it needs the peers' models.
    os.environ["BENCH_CACHE"] = "memcached"
    os.environ["BENCH_PEERS"] = "db" if peers else ""
    return env


def run_benchmark(args) -> int:
    run_id = secrets.token_hex(3)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    processes = Processes()
    peers_missing = [
        name
        for name in ("djinsight", "hitcount")
        if importlib.util.find_spec(name) is None
    ]
    peers = not args.no_peers and not peers_missing and bool(args.postgres)
    notes = []
    if not args.no_peers and not peers:
        notes.append(
            f"peers skipped: not installed ({', '.join(peers_missing)})"
            if peers_missing
            else "peers skipped: they need PostgreSQL (--postgres)"
        )
    started = time.monotonic()
    load_before = os.getloadavg()
    try:
        env = _configure(args, tmp, peers)
        ensure_memcached(processes, int(env["BENCH_MEMCACHED"].rsplit(":", 1)[1]))
        ensure_redis(processes, urlparse(env["BENCH_REDIS"]).port)
        if args.postgres:
            _recreate_postgres_database(args.postgres)
        from bench import phases

        return phases.run_all(
            args, run_id, tmp, out, processes, peers, notes, load_before, started
        )
    finally:
        processes.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
