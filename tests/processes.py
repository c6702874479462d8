"""Starting and collecting the worker processes of tests.workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter as Tally
from pathlib import Path

from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parent.parent


def worker_env(cache_alias: str, *, databases: bool = False) -> dict[str, str]:
    """Environment that points a worker at the test's cache and test databases."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "TRACKER_WORKER_CACHE": cache_alias,
        "TRACKER_WORKER_PREFIX": settings.TRACKER_KEY_PREFIX,
    }
    if databases:
        env["TRACKER_WORKER_SQLITE"] = connections["default"].settings_dict["NAME"]
        if "postgres" in settings.DATABASES:
            env["TRACKER_WORKER_POSTGRES"] = connections["postgres"].settings_dict[
                "NAME"
            ]
    return env


def start(job: dict, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers", json.dumps(job)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def collect(process: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AssertionError(f"worker failed ({process.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def start_time(delay: float = 1.5) -> float:
    """A moment far enough ahead for every worker to have started Django."""
    return time.time() + delay


def total_issued(results: list[dict]) -> Tally:
    tally: Tally = Tally()
    for result in results:
        tally.update(result["issued"])
    return tally
