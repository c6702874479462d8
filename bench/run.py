#!/usr/bin/env python3
"""Run django-tracker's benchmark: ``python bench/run.py`` (README.md says more).

Without ``--no-venv`` (implied by ``--smoke``) it first creates ``bench/.venv``,
installs the project, gunicorn and the peers there, and runs itself again
with that interpreter.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds: tiny durations and counts, one repetition, no peers, "
        "the current interpreter; checks only that it works and counts correctly",
    )
    parser.add_argument("--no-venv", action="store_true", help="use this interpreter")
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per scenario")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument(
        "--no-peers", action="store_true", help="skip djinsight/hitcount"
    )
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/tracker_bench",
        help="database for the servers and the fold ('' for SQLite only); "
        "created if missing",
    )
    parser.add_argument("--memcached-port", type=int, default=11311)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--fold-counters", type=int, default=100_000)
    parser.add_argument("--stats-dom-ids", type=int, default=100)
    parser.add_argument(
        "--out", default=str(BENCH / "results"), help="where the table is written"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.no_venv = True
        args.duration, args.repeats, args.connections = 1, 1, 2
        args.fold_counters, args.stats_dom_ids = 400, 20
        args.no_peers = True
        if "--postgres" not in " ".join(argv):
            args.postgres = ""
    return args


def ensure_venv(argv: list[str]) -> None:
    """Re-run this script inside bench/.venv, installing what it needs first."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    requirements = (BENCH / "requirements.txt").read_bytes()
    stamp = hashlib.sha256(requirements + (ROOT / "setup.py").read_bytes()).hexdigest()
    marker = VENV / "bench-installed"
    if not marker.exists() or marker.read_text() != stamp:
        print(f"bench: installing into {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run(
            [*pip, "-e", f"{ROOT}[memcached,redis,django-redis]"]
            + ["-r", str(BENCH / "requirements.txt")],
            check=True,
        )
        marker.write_text(stamp)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *argv])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.no_venv:
        ensure_venv(argv)
    # Import the benchmark as the package it is, not as scripts beside this one.
    sys.path[:] = [str(ROOT)] + [
        p for p in sys.path if Path(p or ".").resolve() != BENCH
    ]
    from bench.orchestrate import run_benchmark

    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
