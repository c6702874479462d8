"""The results table, the targets of issue 6, and the files they are written to."""

from __future__ import annotations

from dataclasses import dataclass

from bench.foldbench import FoldResult
from bench.loadtest import Summary
from bench.micro import MicroResult
from bench.statsbench import StatsResult


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None  # None: not measured in this run

    def line(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: "n/a "}[self.passed]
        return f"{verdict}  {self.name}: {self.measured}"


def _ratio(summaries: dict[str, Summary], key: str, base: str) -> float | None:
    if key in summaries and base in summaries and summaries[base].rps:
        return summaries[key].rps / summaries[base].rps
    return None


# Scenario keys (see bench/run.py) and the baseline each is compared with.
BASELINE = {
    "b_mc": "a_empty",
    "b_redis": "a_empty",
    "b_pipe": "a_empty",
    "c_mc": "b_mc",
    "c_mc_fast": "b_mc",
    "c_redis": "b_pipe",
    "c_redis_fast": "b_pipe",
    "c_djredis": "b_pipe",
    "c_djredis_fast": "b_pipe",
}


def http_table(summaries: dict[str, Summary]) -> list[str]:
    lines = [
        "| key | scenario | req/s | p50 ms | p99 ms | x empty | x baseline | counts |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    checks: dict[str, list[str]] = {}
    for key, s in summaries.items():
        vs_empty = _ratio(summaries, key, "a_empty")
        base = BASELINE.get(key)
        vs_base = _ratio(summaries, key, base) if base else None
        checks.setdefault(s.check, []).append(key)
        lines.append(
            f"| {key} | {s.title} | {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} | "
            f"{_fmt(vs_empty)} | {_fmt(vs_base)}{f' ({base})' if base else ''} | "
            f"{'ok' if s.counted_ok else 'WRONG'} |"
        )
    lines += ["", "Counts checked after every run:"]
    lines += [f"- {', '.join(keys)}: {check}" for check, keys in checks.items()]
    return lines


def _fmt(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def micro_table(results: list[MicroResult]) -> list[str]:
    lines = [
        "| cache | labels | code | us/call | x raw | round trips/call "
        "| server cmds/call |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    raw = {(r.cache, r.labels): r.micros for r in results if r.who == "raw"}
    for r in results:
        who = "Tracker().incr_labels" if r.who == "tracker" else "raw client"
        lines.append(
            f"| {r.cache} | {r.labels} | {who} | {r.micros:.0f} | "
            f"{r.micros / raw[(r.cache, r.labels)]:.2f}x | {r.round_trips:g} | "
            f"{r.server_commands:.1f} |"
        )
    return lines


def fold_table(results: list[FoldResult]) -> list[str]:
    lines = [
        "| database | counters | fold s | fold queries | bulk_create s "
        "| bulk_create queries | fold / bulk_create | rows verified |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.counters:,} | {r.fold_seconds:.2f} "
            f"| {r.fold_queries} | {r.bulk_seconds:.2f} | {r.bulk_queries} | "
            f"{r.fold_seconds / r.bulk_seconds:.2f}x | "
            f"{'ok' if r.verified else 'WRONG: ' + r.note} |"
        )
    return lines


def stats_table(results: list[StatsResult]) -> list[str]:
    lines = [
        "| cache | dom ids | cache round trips | queries | ms/request | counts |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.cache} | {r.dom_ids} | {r.round_trips} | {r.queries} | "
            f"{r.millis:.1f} | {'ok' if r.verified else 'WRONG: ' + r.note} |"
        )
    return lines


def _rps_target(summaries, name, key, base, minimum) -> Target:
    ratio = _ratio(summaries, key, base)
    if ratio is None:
        return Target(name, f"not measured ({key} or {base} missing)", None)
    return Target(name, f"{ratio:.2f}x (>= {minimum}x)", ratio >= minimum)


def targets(
    summaries: dict[str, Summary],
    micro: list[MicroResult],
    folds: list[FoldResult],
    stats: list[StatsResult],
) -> list[Target]:
    found = []
    for suffix, how in (("", "plain URL"), ("_fast", "fast-path middleware")):
        c_mc = f"c_mc{suffix}"
        if c_mc not in summaries and suffix:
            continue
        found += [
            _rps_target(summaries, f"track/ memcached ({how}) vs b", c_mc, "b_mc", 1.1),
            _rps_target(
                summaries, f"track/ memcached ({how}) vs empty", c_mc, "a_empty", 0.6
            ),
            _rps_target(
                summaries,
                f"track/ RedisCache ({how}) vs pipeline",
                f"c_redis{suffix}",
                "b_pipe",
                1.0,
            ),
            _rps_target(
                summaries,
                f"track/ django-redis ({how}) vs pipeline",
                f"c_djredis{suffix}",
                "b_pipe",
                1.0,
            ),
        ]
        peers = [k for k in summaries if k.startswith("d_djinsight")]
        fastest = max(peers, key=lambda k: summaries[k].rps, default="d_djinsight")
        found += [
            _rps_target(
                summaries,
                f"track/ memcached ({how}) vs djinsight (fastest)",
                c_mc,
                fastest,
                3,
            ),
            _rps_target(
                summaries,
                f"track/ memcached ({how}) vs django-hitcount",
                c_mc,
                "d_hitcount",
                8,
            ),
        ]
    for r in micro:
        if r.who == "tracker" and r.labels == 10:
            limit = 1 if r.cache == "redis" else 10
            found.append(
                Target(
                    f"incr_labels 10 labels on {r.cache}: round trips",
                    f"{r.round_trips:g} (<= {limit})",
                    r.round_trips <= limit,
                )
            )
    for r in folds:
        ratio = r.fold_seconds / r.bulk_seconds
        found.append(
            Target(
                f"fold of {r.counters:,} counters on {r.database}",
                f"{ratio:.2f}x bulk_create (<= 2x), {r.fold_queries} queries (<= 100)",
                ratio <= 2 and r.fold_queries <= 100 and r.verified,
            )
        )
    for r in stats:
        found.append(
            Target(
                f"get_stats/ {r.dom_ids} dom ids on {r.cache}",
                f"{r.round_trips} round trips (<= 2), {r.queries} queries (<= 2)",
                r.round_trips <= 2 and r.queries <= 2 and r.verified,
            )
        )
    return found
