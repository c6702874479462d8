"""The phases of a run that need Django: HTTP scenarios, micro, fold, stats."""

from __future__ import annotations

import datetime
import importlib.util
import json
import time
from dataclasses import asdict
from pathlib import Path
from urllib.request import Request, urlopen

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from bench import (  # noqa: E402
    environment,
    foldbench,
    loadtest,
    micro,
    report,
    scenarios,
    statsbench,
)
from bench.servers import start_gunicorn, wait_port  # noqa: E402
from tracker.counters import local_today  # noqa: E402
from tracker.models import Statistic  # noqa: E402
from tracker.reports import fold  # noqa: E402


def _fast_path_available() -> bool:
    module, _, name = scenarios.FAST_MIDDLEWARE.rpartition(".")
    if importlib.util.find_spec(module) is None:
        return False
    return hasattr(importlib.import_module(module), name)


def _track_works(server) -> str:
    """Why the track scenarios cannot run, or "" when track/ counts."""
    probe = Request(
        server.url("/tracker/track/?labels=probe:bench"),
        headers={"User-Agent": loadtest.BROWSER},
    )
    try:
        with urlopen(probe, timeout=10) as response:
            status = response.status
    except OSError as error:
        status = getattr(error, "code", None) or str(error)
    return (
        "" if status in (200, 204) else f"track/ answered {status} (not implemented?)"
    )


def _start_servers(processes, servers, tmp: Path) -> None:
    for server in servers.values():
        start_gunicorn(processes, server, tmp)
    for server in servers.values():
        wait_port(server.port, seconds=60, process=server.process)
    # The master listens before its workers have imported Django; on a loaded
    # 2-core machine a dozen workers booting at once take many seconds.
    for server in servers.values():
        for _ in range(2):  # one request per worker, roughly
            with urlopen(server.url("/empty/"), timeout=180) as response:
                response.read()


def http_phase(args, run_id, servers, peers, notes) -> dict[str, loadtest.Summary]:
    scenarios.prepare()
    found = scenarios.baseline_scenarios(servers)
    why_not = _track_works(servers["mc"])
    if why_not:
        notes.append(f"scenario c skipped: {why_not}")
    else:
        found += scenarios.track_scenarios(servers, run_id)
    if peers:
        found += scenarios.peer_scenarios(servers, *scenarios.prepare_peers())
    warmups: dict[str, list[loadtest.Run]] = {}
    if not args.smoke:  # first requests import views and open connections
        for scenario in found:
            warmups[scenario.key] = [loadtest.run_once(scenario, 1, args.connections)]
    # Interleaved (a, b, c, d, a, b, ...): load changes hit every scenario alike.
    for repeat in range(args.repeats):
        for scenario in found:
            run = loadtest.run_once(scenario, args.duration, args.connections)
            scenario.runs.append(run)
            print(
                f"  [{repeat + 1}/{args.repeats}] {scenario.key:18} "
                f"{run.rps:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 "
                f"{run.p99_ms:6.2f} ms  served {run.served_ok}"
                + (f"  PROBLEM: {run.problems}" if run.problems else ""),
                flush=True,
            )
    for scenario in found:
        for run in warmups.get(scenario.key, []):
            if run.problems:
                scenario.runs[0].problems += [f"warm-up: {p}" for p in run.problems]
    _check_fold(found, run_id, warmups, notes)
    return {scenario.key: loadtest.summarise(scenario) for scenario in found}


def _check_fold(found, run_id, warmups, notes) -> None:
    """Fold the track scenarios' counts and compare the rows with what was served."""
    tracked = [s for s in found if s.key.startswith("c_")]
    if not tracked:
        return
    for alias in ("memcached", "redis"):  # django-redis shares the Redis server
        fold(days=[local_today()], cache_alias=alias)
    for scenario in tracked:
        served = sum(r.served_ok for r in scenario.runs + warmups.get(scenario.key, []))
        query = scenarios.track_query(run_id, scenario.key)
        labels = [item.split(":", 1)[0] for item in query.split("|")]
        rows = Statistic.objects.filter(label__in=labels, day=local_today())
        counts = sorted(rows.values_list("counter", flat=True))
        if counts != [served, served]:
            scenario.runs[0].problems.append(f"folded rows {counts}, served {served}")
        else:
            scenario.check += "; folded rows equal the total served"


def run_all(args, run_id, tmp, out, processes, peers, notes, load_before, started):
    databases = ["default", "fold_sqlite"] if args.postgres else ["fold_sqlite"]
    for db in {"default", *databases}:
        call_command("migrate", database=db, verbosity=0)
        # Then djinsight's tables from its models (see MIGRATION_MODULES): they
        # refer to content types, which the first pass created.
        call_command("migrate", database=db, run_syncdb=True, verbosity=0)
    fast = _fast_path_available()
    if not fast:
        notes.append(f"fast path not measured: no {scenarios.FAST_MIDDLEWARE}")
    servers = scenarios.make_servers(tmp, fast, peers)
    _start_servers(processes, servers, tmp)
    print(f"bench {run_id}: servers up; load average {environment.load()}", flush=True)
    summaries = http_phase(args, run_id, servers, peers, notes)
    load_after = environment.load()
    for server in servers.values():  # idle, but the rest is timed in this process
        processes.stop(server.process)
    calls = 20 if args.smoke else 2000
    micro_results = micro.run(run_id, calls, args.repeats)
    # Each fold of 100,000 counters takes tens of seconds: 3 are enough.
    fold_results = foldbench.run(
        run_id, "redis", databases, args.fold_counters, min(args.repeats, 3)
    )
    stats_results = [
        statsbench.run(run_id, alias, args.stats_dom_ids, 5 if args.smoke else 50)
        for alias in ("memcached", "redis")
    ]
    for db in connections:
        connections[db].close()
    found = report.targets(summaries, micro_results, fold_results, stats_results)
    info = environment.describe()
    header = [
        f"# django-tracker benchmark, {datetime.datetime.now():%Y-%m-%d %H:%M} "
        f"(run {run_id}{', smoke' if args.smoke else ''})",
        "",
        f"- Machine: {info['machine']}; load average (1, 5, 15 min) "
        f"{' '.join(f'{v:.2f}' for v in load_before)} before, {load_after} after "
        "the HTTP scenarios",
        f"- Python {info['python']}; {info['packages']}",
        f"- Servers: {info['servers']}; database {connections['default'].vendor}",
        f"- wrk: 1 thread, {args.connections} connections, {args.duration} s per "
        f"run, median of {args.repeats} interleaved runs; gunicorn 2 sync workers",
    ]
    lines = header + ["", "## HTTP", ""] + report.http_table(summaries)
    lines += ["", "## incr_labels vs the raw client", ""]
    lines += report.micro_table(micro_results)
    lines += ["", "## Fold", ""] + report.fold_table(fold_results)
    lines += ["", "## get_stats/", ""] + report.stats_table(stats_results)
    lines += ["", "## Targets", "", "```"] + [t.line() for t in found] + ["```"]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    problems = [p for s in summaries.values() for p in s.problems]
    problems += [
        f"fold on {r.database}: {r.note}" for r in fold_results if not r.verified
    ]
    problems += [
        f"stats on {r.cache}: {r.note}" for r in stats_results if not r.verified
    ]
    if problems:
        lines += ["", "## Counting problems", ""] + [f"- {p}" for p in problems]
    lines.append("")
    lines.append(f"Took {time.monotonic() - started:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    name = "smoke" if args.smoke else "latest"
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(
        json.dumps(
            {
                "run": run_id,
                "http": {k: asdict(v) for k, v in summaries.items()},
                "micro": [asdict(r) for r in micro_results],
                "fold": [asdict(r) for r in fold_results],
                "stats": [asdict(r) for r in stats_results],
                "targets": [asdict(t) for t in found],
                "notes": notes,
            },
            indent=2,
        )
    )
    print(f"bench: wrote {out / (name + '.md')}")
    return 1 if problems else 0
