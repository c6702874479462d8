"""``fold()``: move the cache's counts into daily Statistic rows, exactly once.

The report view, the ``tracker_report`` command and the Celery task all call
:func:`fold`. Why it can be repeated, run several times at once or killed at
any point without losing or doubling a count:

* The cache is never written or reset by the fold. A counter only grows, and
  its cached value is the whole day's count so far (see :mod:`tracker.keys`).
* Each row remembers the cached value it folded last (``counter_mark``). A
  fold adds ``value - mark`` and stores the new mark, in the same transaction.
  If the counter was re-created since (a new generation in the value), the
  whole new count is added.
* Each batch is one transaction that first updates the :class:`FoldLock` row,
  so folds take turns batch by batch, and only then reads the rows and the
  cached values. Every fold therefore computes its difference against what
  the previous one committed, from a value at least as new.
* A fold that dies rolls its open batch back; the cache still holds the
  counts and the next fold moves them.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, router, transaction
from django.db.models import F
from django.utils import timezone

from tracker.backends.base import CounterBackend, chunked
from tracker.conf import tracker_settings
from tracker.counters import get_backend, local_today
from tracker.exceptions import FoldError
from tracker.keys import HITS, Counter, row_digest, unpack
from tracker.models import FoldLock, Statistic
from tracker.rows import insert_rows, update_rows

logger = logging.getLogger(__name__)

LOCK_NAME = "fold"


@dataclass
class FoldSummary:
    """What one fold did."""

    counters_read: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    increments_moved: int = 0
    uniques_moved: int = 0
    days: list[datetime.date] = field(default_factory=list)
    duration: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["days"] = [day.isoformat() for day in self.days]
        data["duration"] = round(self.duration, 4)
        return data

    def __str__(self) -> str:
        days = ", ".join(day.isoformat() for day in self.days)
        return (
            f"Folded {self.increments_moved} increments ({self.uniques_moved} distinct "
            f"visitors) from {self.counters_read} counters over {days}: "
            f"{self.rows_created} rows created, {self.rows_updated} updated "
            f"in {self.duration:.3f}s."
        )


def advance(total: int, mark: int, value: int | None) -> tuple[int, int, int]:
    """Fold a cached ``value`` into a row's ``total``; return (total, mark, moved)."""
    if value is None:  # the key is gone: nothing more can be moved from it
        return total, mark, 0
    generation, count = unpack(value)
    mark_generation, mark_count = unpack(mark)
    if generation == mark_generation and count >= mark_count:
        moved = count - mark_count
    else:  # re-created since the last fold: all of its count is new
        moved = count
    return total + moved, value, moved


def live_total(total: int, mark: int, value: int | None) -> int:
    """A row's count including what the cache holds beyond its last fold.

    ``total`` and ``mark`` are a row's ``counter`` and ``counter_mark`` (or
    ``uniques`` and ``uniques_mark``); ``value`` the counter's packed cached
    value (``backend.read_values``), or None. Without a row, pass 0 and 0.
    """
    return advance(total, mark, value)[0]


def fold(
    *,
    days: Iterable[datetime.date] | None = None,
    using: str | None = None,
    batch_size: int | None = None,
    cache_alias: str | None = None,
) -> FoldSummary:
    """Move every not-yet-folded count into ``Statistic`` rows and say what moved.

    ``days`` defaults to the last ``TRACKER_FOLD_DAYS`` local days, today
    included, so counts of yesterday are still folded after midnight. Raises
    :class:`~tracker.exceptions.FoldError` if the cache or the database fails;
    whatever was not committed stays in the cache for the next fold.
    """
    started = time.monotonic()
    db = using or router.db_for_write(Statistic)
    if days is None:
        today = local_today()
        days = [
            today - datetime.timedelta(days=n)
            for n in range(tracker_settings.FOLD_DAYS)
        ]
    summary = FoldSummary(days=sorted(set(days)))
    size = batch_size or tracker_settings.FOLD_BATCH_SIZE
    backend = get_backend(cache_alias)
    try:
        for day in summary.days:
            _fold_day(backend, db, day, size, summary)
    except DatabaseError as error:
        raise FoldError(
            f"Fold stopped: database {db!r} failed ({error}). Nothing is lost: the "
            "counts stay in the cache and the next fold moves them."
        ) from error
    summary.duration = time.monotonic() - started
    logger.info("tracker: %s", summary)
    return summary


def _fold_day(
    backend: CounterBackend,
    db: str,
    day: datetime.date,
    size: int,
    summary: FoldSummary,
) -> None:
    registered = _from_cache(backend.read_registry, day)
    summary.counters_read += len(registered)
    rows = list(dict.fromkeys(counter.row() for counter in registered))
    # Only counters with distinct visitors have a twin; reading the others'
    # would double the cache reads of a fold of labels for nothing.
    twins = {counter for counter in registered if counter.metric != HITS}
    content_types = _content_types(db, rows)
    for batch in chunked(rows, size):
        wanted = [*batch, *(c.twin() for c in batch if c.twin() in twins)]
        _fold_batch(backend, db, day, batch, wanted, content_types, summary)


def _from_cache(read: Any, *args: Any) -> Any:
    """Call a backend reader, turning any cache failure into a FoldError."""
    try:
        return read(*args)
    except Exception as error:
        raise FoldError(
            "Fold stopped: reading the cache failed "
            f"({type(error).__name__}: {error}). "
            "Nothing is lost: the next fold moves the counts."
        ) from error


def _content_types(db: str, rows: Sequence[Counter]) -> dict[str, int | None]:
    """Content type ids of the models named by object counters."""
    found: dict[str, int | None] = {}
    for model_label in {row.model for row in rows if row.model}:
        try:
            model = apps.get_model(model_label)
        except (LookupError, ValueError):
            logger.warning(
                "tracker: counters of unknown model %r are skipped", model_label
            )
            found[model_label] = None
            continue
        found[model_label] = (
            ContentType.objects.db_manager(db)
            .get_for_model(model, for_concrete_model=True)
            .pk
        )
    return found


def _take_turn(db: str) -> None:
    """Lock the FoldLock row for this transaction, creating it the first time."""
    locks = FoldLock.objects.using(db).filter(pk=LOCK_NAME)
    changes = {"batches": F("batches") + 1, "updated": timezone.now()}
    if not locks.update(**changes):
        # A plain INSERT (no SELECT first): on SQLite, reading before writing
        # lets two first folds deadlock on upgrading their locks.
        FoldLock.objects.using(db).bulk_create(
            [FoldLock(name=LOCK_NAME)], ignore_conflicts=True
        )
        locks.update(**changes)


def _fold_batch(
    backend: CounterBackend,
    db: str,
    day: datetime.date,
    batch: Sequence[Counter],
    wanted: Sequence[Counter],
    content_types: dict[str, int | None],
    summary: FoldSummary,
) -> None:
    digests = {row_digest(day, counter): counter for counter in batch}
    with transaction.atomic(using=db):
        _take_turn(db)
        existing = {
            row[0]: row
            for row in Statistic.objects.using(db)
            .filter(digest__in=list(digests))
            .order_by()
            .values_list(
                "digest", "id", "counter", "counter_mark", "uniques", "uniques_mark"
            )
        }
        # Read the cache only now, holding the lock: see the module docstring.
        values = _from_cache(backend.read_values, day, wanted)
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[int, ...]] = []
        moved = uniques_moved = 0
        for digest, counter in digests.items():
            hits, uniques = values.get(counter), values.get(counter.twin())
            row = existing.get(digest)
            if row is None:
                if hits is None or not unpack(hits)[1]:
                    continue  # never a zero-count row
                content_type = (
                    content_types.get(counter.model) if counter.model else None
                )
                if counter.model and content_type is None:
                    continue
                count, distinct = unpack(hits)[1], unpack(uniques)[1] if uniques else 0
                inserts.append(
                    (
                        day,
                        counter.label,
                        counter.category,
                        counter.dom_id,
                        content_type,
                        counter.object_id,
                        count,
                        distinct,
                        digest,
                        hits,
                        uniques or 0,
                    )
                )
                moved, uniques_moved = moved + count, uniques_moved + distinct
                continue
            _, row_id, total, mark, distinct_total, distinct_mark = row
            total, mark, count = advance(total, mark, hits)
            distinct_total, distinct_mark, distinct = advance(
                distinct_total, distinct_mark, uniques
            )
            if count or distinct or mark != row[3] or distinct_mark != row[5]:
                updates.append((total, mark, distinct_total, distinct_mark, row_id))
                moved, uniques_moved = moved + count, uniques_moved + distinct
        insert_rows(db, inserts)
        update_rows(db, updates)
    summary.rows_created += len(inserts)
    summary.rows_updated += len(updates)
    summary.increments_moved += moved
    summary.uniques_moved += uniques_moved
