"""The fold of many counters against a raw ``bulk_create`` of the same rows."""

from __future__ import annotations

import datetime
import statistics
import time
from dataclasses import dataclass

from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from tracker.backends.base import Hit, chunked
from tracker.counters import get_backend, local_today
from tracker.keys import Counter, row_digest
from tracker.models import FoldLock, Statistic
from tracker.reports import fold

SEED_BATCH = 20  # counters per increment call while seeding (TRACKER_MAX_ITEMS)


@dataclass
class FoldResult:
    """Median timings of the fold and of the raw insert, on one database."""

    database: str
    counters: int
    fold_seconds: float
    fold_queries: int
    bulk_seconds: float
    bulk_queries: int
    verified: bool
    note: str


def _counters(run_id: str, total: int, days: list[datetime.date]):
    """``total`` distinct counters spread over ``days``, with their counts."""
    per_day = total // len(days)
    plan = {}
    for day in days:
        counters = [
            Counter(f"fold{run_id}_{n}", "bench", f"d{n % 500}" if n % 4 == 0 else "")
            for n in range(per_day)
        ]
        plan[day] = [(counter, 1 + n % 7) for n, counter in enumerate(counters)]
    return plan


def _seed(cache_alias: str, plan) -> None:
    backend = get_backend(cache_alias)
    for day, pairs in plan.items():
        # Counters sharing a count go in one call: a hit has one count.
        by_count: dict[int, list[Counter]] = {}
        for counter, count in pairs:
            by_count.setdefault(count, []).append(counter)
        for count, counters in by_count.items():
            for batch in chunked(counters, SEED_BATCH):
                backend.increment(Hit(day=day, counters=batch, count=count))


def _rows(plan, cache_alias: str) -> list[Statistic]:
    """The rows the fold creates, built by hand for ``bulk_create``."""
    backend = get_backend(cache_alias)
    rows = []
    for day, pairs in plan.items():
        values = backend.read_values(day, [counter for counter, _ in pairs])
        for counter, count in pairs:
            rows.append(
                Statistic(
                    day=day,
                    label=counter.label,
                    category=counter.category,
                    dom_id=counter.dom_id,
                    counter=count,
                    digest=row_digest(day, counter),
                    counter_mark=values[counter],
                )
            )
    return rows


def _clear(db: str) -> None:
    with transaction.atomic(using=db):
        Statistic.objects.using(db).all().delete()
        FoldLock.objects.using(db).all().delete()


def _timed(db: str, work) -> tuple[float, int, object]:
    with CaptureQueriesContext(connections[db]) as queries:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
    return seconds, len(queries), result


def run(
    run_id: str, cache_alias: str, databases: list[str], total: int, repeats: int
) -> list[FoldResult]:
    today = local_today()
    days = [today - datetime.timedelta(days=1), today]
    plan = _counters(run_id, total, days)
    expected = sum(count for pairs in plan.values() for _, count in pairs)
    results = []
    with override_settings(TRACKER_KEY_PREFIX=f"fold{run_id}:"):
        _seed(cache_alias, plan)
        rows = _rows(plan, cache_alias)
        for db in databases:
            fold_runs, bulk_runs, notes = [], [], []
            verified = True
            for _ in range(repeats):
                _clear(db)
                seconds, queries, summary = _timed(
                    db, lambda db=db: fold(days=days, using=db, cache_alias=cache_alias)
                )
                fold_runs.append((seconds, queries))
                stored = Statistic.objects.using(db).count()
                if (summary.rows_created, summary.increments_moved, stored) != (
                    len(rows),
                    expected,
                    len(rows),
                ):
                    verified = False
                    notes.append(
                        f"fold made {summary.rows_created} rows (stored {stored}), "
                        f"moved {summary.increments_moved}; expected {len(rows)} "
                        f"rows, {expected}"
                    )
                _clear(db)

                def bulk(db=db):
                    with transaction.atomic(using=db):
                        return Statistic.objects.using(db).bulk_create(rows)

                bulk_runs.append(_timed(db, bulk)[:2])
                for row in rows:  # bulk_create set them; the next run inserts again
                    row.pk = None
                    row._state.adding = True
            _clear(db)
            results.append(
                FoldResult(
                    database=connections[db].vendor,
                    counters=len(rows),
                    fold_seconds=statistics.median(s for s, _ in fold_runs),
                    fold_queries=max(q for _, q in fold_runs),
                    bulk_seconds=statistics.median(s for s, _ in bulk_runs),
                    bulk_queries=max(q for _, q in bulk_runs),
                    verified=verified,
                    note="; ".join(notes),
                )
            )
    return results
