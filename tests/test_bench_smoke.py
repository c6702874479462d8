"""The benchmark's smoke run: it works end to end and every hit is counted.

No timing is asserted (the machines are shared and noisy); bench/README.md
holds the measured figures.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.servers]


def test_smoke_run_counts_every_request(tmp_path):
    for binary, package in (
        ("wrk", "wrk"),
        ("memcached", "memcached"),
        ("redis-server", "redis-server"),
    ):
        require(shutil.which(binary) is not None, f"{binary} (Debian: {package})")
    require(
        importlib.util.find_spec("gunicorn") is not None,
        "gunicorn (pip install -e '.[test]')",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", tmp_path],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    data = json.loads((tmp_path / "smoke.json").read_text())
    http = data["http"]
    assert {"a_empty", "b_mc", "b_redis", "b_pipe"} <= set(http)
    if not any("scenario c skipped" in note for note in data["notes"]):
        assert {"c_mc", "c_redis", "c_djredis"} <= set(http)
    for key, summary in http.items():
        assert summary["counted_ok"], (key, summary["problems"])
        assert summary["served"] > 0, key
    assert data["fold"] and all(fold["verified"] for fold in data["fold"])
    assert data["stats"] and all(stats["verified"] for stats in data["stats"])
    rounds = {
        (m["cache"], m["labels"], m["who"]): m["round_trips"] for m in data["micro"]
    }
    assert rounds[("redis", 10, "tracker")] == 1
    assert rounds[("memcached", 10, "tracker")] <= 10
