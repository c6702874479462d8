"""HTTP scenarios: wrk against gunicorn, with the counts checked after each run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.project.served import read as read_served
from bench.servers import Server

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "summary.lua"
# A browser's user agent: the track endpoint ignores known bots by default.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

# Reads the counts a scenario increments; each must grow by the 2xx served.
CountReader = Callable[[], list[int]]


@dataclass
class Scenario:
    """One URL of one server, driven by wrk, and how to read what it counted."""

    key: str
    title: str
    server: Server
    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    read_counts: CountReader | None = None
    # What can be checked of the counts, said in the table's notes.
    check: str = ""
    runs: list[Run] = field(default_factory=list)


@dataclass
class Run:
    """One wrk run of one scenario, and what the server and the counters say."""

    requests: int  # responses wrk read
    seconds: float
    p50_ms: float
    p99_ms: float
    served_ok: int  # 2xx responses the server sent (wrk's plus those in flight)
    served_other: int
    wrk_errors: dict[str, int]
    counted: list[int]  # growth of each counter
    problems: list[str]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def wrk(
    scenario: Scenario, seconds: int, connections: int, threads: int
) -> dict[str, float]:
    headers = {"User-Agent": BROWSER, **scenario.headers}
    env = {
        **os.environ,
        "BENCH_METHOD": scenario.method,
        "BENCH_BODY": scenario.body,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items()),
    }
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    args += [
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        scenario.server.url(scenario.path),
    ]
    output = subprocess.run(
        args, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no summary:\n{output}")


def settled(
    served_file: str, at_least: int, quiet: float = 0.3, limit: float = 30
) -> tuple[int, int]:
    """The served counts once the server has finished what wrk left in flight.

    Done when nothing changed for ``quiet`` seconds and the server's total has
    reached ``at_least`` (what it had served before, plus the responses wrk
    read: a loaded worker may not have run its post_request hook yet).
    """
    deadline = time.monotonic() + limit
    last = read_served(served_file)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = read_served(served_file)
        if now == last and sum(now) >= at_least:
            break
        last = now
    return last


def run_once(
    scenario: Scenario, seconds: int, connections: int, threads: int = 1
) -> Run:
    """Drive a scenario once and check that every 2xx response was counted."""
    before = scenario.read_counts() if scenario.read_counts else []
    ok_before, other_before = read_served(scenario.server.served_file)
    result = wrk(scenario, seconds, connections, threads)
    # wrk's count includes its non-2xx responses; the file counts since start.
    at_least = ok_before + other_before + int(result["requests"])
    while True:
        ok_after, other_after = settled(scenario.server.served_file, at_least)
        after = scenario.read_counts() if scenario.read_counts else []
        # A request finishing while the counts were read: read both again.
        if read_served(scenario.server.served_file) == (ok_after, other_after):
            break
    served_ok, served_other = ok_after - ok_before, other_after - other_before
    errors = {
        name: int(result[name])
        for name in ("connect", "read", "write", "status", "timeout")
        if result[name]
    }
    counted = [new - old for old, new in zip(before, after, strict=True)]
    problems = []
    if errors or served_other:
        problems.append(f"errors: wrk {errors}, server non-2xx {served_other}")
    # wrk stops reading when its time is up; the server finishes what was sent.
    in_flight = served_ok - result["requests"]
    if not 0 <= in_flight <= connections:
        problems.append(f"server served {served_ok}, wrk read {result['requests']}")
    for index, growth in enumerate(counted):
        if growth != served_ok:
            problems.append(f"counter {index + 1} grew {growth}, served {served_ok}")
    return Run(
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        served_ok=served_ok,
        served_other=served_other,
        wrk_errors=errors,
        counted=counted,
        problems=problems,
    )


@dataclass
class Summary:
    """The median of a scenario's runs."""

    key: str
    title: str
    rps: float
    p50_ms: float
    p99_ms: float
    runs: int
    served: int
    counted_ok: bool
    problems: list[str]
    check: str


def summarise(scenario: Scenario) -> Summary:
    runs = scenario.runs
    problems = [problem for run in runs for problem in run.problems]
    return Summary(
        key=scenario.key,
        title=scenario.title,
        rps=statistics.median(run.rps for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
        runs=len(runs),
        served=sum(run.served_ok for run in runs),
        counted_ok=not problems,
        problems=problems,
        check=scenario.check,
    )
