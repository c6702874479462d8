"""Counts over periods: one aggregate query, plus one cache read for today.

Days before today come from the folded ``Statistic`` rows. Today is combined
live: each of today's rows plus what the cache holds beyond its last fold
(:func:`tracker.reports.live_total`), so a hit shows before the next fold.
Every function here runs one aggregate SQL query, never one per day, plus one
cache read when the range includes today.

Top lists and the totals of many objects at once are in
:mod:`tracker.rankings`.

Which of today's counters are read live: those with a row today (folded at
least once today), and the counter a queryset names exactly
(:meth:`StatisticQuerySet.for_object`, :meth:`~StatisticQuerySet.for_label`).
Another counter first hit today shows from the next fold on.

Distinct visitors are counted per day, so ``uniques`` over several days is a
sum of daily distinct visitors (a visitor who comes back on two days counts
twice).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models
from django.db.models import Case, F, Max, Min, Sum, Value, When

from tracker.conf import tracker_settings
from tracker.counters import get_backend, local_today
from tracker.keys import Counter
from tracker.periods import (
    DayCount,
    Period,
    PeriodSpec,
    Summary,
    Totals,
    resolve_period,
)

logger = logging.getLogger(__name__)

# The columns that tell one counter from another (apart from the day), by
# the names aggregated rows carry them under (a field's own name cannot be
# reused for an annotation).
IDENTITY = {
    "i_label": "label",
    "i_category": "category",
    "i_dom_id": "dom_id",
    "i_object_id": "object_id",
    "i_app_label": "content_type__app_label",
    "i_model": "content_type__model",
    "i_content_type": "content_type",
}
LABEL_IDENTITY = ("i_label", "i_category", "i_dom_id")
OBJECT_IDENTITY = ("i_app_label", "i_model", "i_object_id", "i_label", "i_content_type")


# --- Reading today's cache ---------------------------------------------------


def read_today(counters: Iterable[Counter], day: datetime.date) -> dict[Counter, int]:
    """Packed cache values of ``counters`` and their distinct-visitor twins.

    One cache read. A cache failure is logged and reads as "nothing beyond the
    rows" unless ``TRACKER_FAIL_SILENTLY = False``.
    """
    counters = list(dict.fromkeys(counters))
    if not counters:
        return {}
    try:
        return get_backend().read_values(
            day, [*counters, *(counter.twin() for counter in counters)]
        )
    except Exception as error:
        if not tracker_settings.FAIL_SILENTLY:
            raise
        logger.warning("tracker: could not read live counts: %s", error)
        return {}


def live_totals(
    counter: Counter, values: dict[Counter, int], row: Totals, marks: Totals
) -> Totals:
    """Today's counts of one counter: its row's folded counts plus the cache's."""
    # reports imports tracker.models, which imports this module.
    from tracker.reports import live_total

    return Totals(
        live_total(row.count, marks.count, values.get(counter)),
        live_total(row.uniques, marks.uniques, values.get(counter.twin())),
    )


def row_counter(row: dict[str, Any]) -> Counter:
    """The counter of an aggregated row carrying (some of) the ``IDENTITY`` columns."""
    if row.get("i_app_label"):
        return Counter(
            row["i_label"],
            model=f"{row['i_app_label']}.{row['i_model']}",
            object_id=row["i_object_id"],
        )
    return Counter(row["i_label"], row.get("i_category", ""), row.get("i_dom_id", ""))


def in_period(queryset: models.QuerySet, period: Period) -> models.QuerySet:
    rows = queryset.order_by().filter(day__lte=period.end)
    return rows if period.start is None else rows.filter(day__gte=period.start)


def _sum(field: str, since: datetime.date | None = None) -> Sum:
    if since is None:
        return Sum(field, default=0)
    return Sum(Case(When(day__gte=since, then=F(field)), default=Value(0)))


# --- Aggregates over many counters: totals, summaries, series ----------------


def _today_bucket(today: datetime.date, period: Period) -> models.Expression:
    """Groups all days but today together, and each of today's rows apart."""
    if today not in period:
        return Value(0, output_field=models.BigIntegerField())
    return Case(
        When(day=today, then=F("pk")),
        default=Value(0),
        output_field=models.BigIntegerField(),
    )


def _bucket_annotations(
    windows: dict[str, datetime.date | None],
) -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    for name, since in windows.items():
        annotations[f"{name}_count"] = _sum("counter", since)
        annotations[f"{name}_uniques"] = _sum("uniques", since)
    annotations["mark"] = Max("counter_mark")
    annotations["umark"] = Max("uniques_mark")
    for name, column in IDENTITY.items():
        annotations[name] = Max(column)  # today's rows are groups of one
    return annotations


def _buckets(
    queryset: models.QuerySet,
    period: Period,
    windows: dict[str, datetime.date | None],
    today: datetime.date,
    group_by: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[Counter, int]]:
    """Run the one query and the one cache read behind totals, summaries, series.

    Returns the grouped rows and today's cache values. A row whose ``_bucket``
    is not 0 is one of today's rows, carrying its identity and marks.
    """
    hints = live_hints(queryset) if today in period else ()
    rows = list(
        in_period(queryset, period)
        .annotate(_bucket=_today_bucket(today, period))
        .values("_bucket", *group_by)
        .annotate(**_bucket_annotations(windows), **(extra or {}))
    )
    if today not in period:
        return rows, {}
    counters = [row_counter(row) for row in rows if row["_bucket"]]
    return rows, read_today([*counters, *hints], today)


def _live_deltas(
    rows: list[dict[str, Any]],
    values: dict[Counter, int],
    hints: Sequence[Counter],
    name: str,
) -> Totals:
    """What today's cache adds to the folded sums of window ``name``."""
    count = uniques = 0
    seen = set()
    for row in rows:
        if not row["_bucket"]:
            continue
        counter = row_counter(row)
        seen.add(counter)
        folded = Totals(row[f"{name}_count"], row[f"{name}_uniques"])
        live = live_totals(counter, values, folded, Totals(row["mark"], row["umark"]))
        count += live.count - folded.count
        uniques += live.uniques - folded.uniques
    for counter in hints:
        if counter not in seen:
            live = live_totals(counter, values, Totals(), Totals())
            count, uniques = count + live.count, uniques + live.uniques
    return Totals(count, uniques)


def period_totals(queryset: models.QuerySet, period: PeriodSpec = "total") -> Totals:
    """Count and distinct visitors of the queryset's rows over ``period``, live."""
    today = local_today()
    span = resolve_period(period, today=today)
    rows, values = _buckets(queryset, span, {"p": None}, today)
    folded = Totals(
        sum(row["p_count"] for row in rows), sum(row["p_uniques"] for row in rows)
    )
    if today not in span:
        return folded
    delta = _live_deltas(rows, values, live_hints(queryset), "p")
    return Totals(folded.count + delta.count, folded.uniques + delta.uniques)


def summarize(queryset: models.QuerySet) -> Summary:
    """Total, today, this week, this month, first and last day seen, live."""
    today = local_today()
    windows = {
        "total": None,
        "today": today,
        "week": resolve_period("week", today=today).start,
        "month": resolve_period("month", today=today).start,
    }
    span = Period(None, today)
    rows, values = _buckets(
        queryset, span, windows, today, extra={"first": Min("day"), "last": Max("day")}
    )
    hints = live_hints(queryset)
    results = {}
    for name in windows:
        delta = _live_deltas(rows, values, hints, name)
        results[name] = Totals(
            sum(row[f"{name}_count"] for row in rows) + delta.count,
            sum(row[f"{name}_uniques"] for row in rows) + delta.uniques,
        )
    days = [row[key] for row in rows for key in ("first", "last") if row[key]]
    if results["today"].count:
        days.append(today)
    return Summary(
        total=results["total"],
        today=results["today"],
        week=results["week"],
        month=results["month"],
        first_seen=min(days, default=None),
        last_seen=max(days, default=None),
    )


def daily_series(
    queryset: models.QuerySet, period: PeriodSpec = "30d"
) -> list[DayCount]:
    """One point per day of ``period`` (zeros included), today's live."""
    today = local_today()
    span = resolve_period(period, today=today)
    rows, values = _buckets(queryset, span, {"p": None}, today, group_by=("day",))
    by_day: dict[datetime.date, Totals] = {}
    for row in rows:
        if row["_bucket"]:
            continue
        by_day[row["day"]] = Totals(row["p_count"], row["p_uniques"])
    if today in span:
        today_rows = [row for row in rows if row["_bucket"]]
        folded = Totals(
            sum(row["p_count"] for row in today_rows),
            sum(row["p_uniques"] for row in today_rows),
        )
        delta = _live_deltas(today_rows, values, live_hints(queryset), "p")
        live = Totals(folded.count + delta.count, folded.uniques + delta.uniques)
        if live.count or live.uniques:
            by_day[today] = live
    if span.start is None:
        if not by_day:
            return []
        span = Period(min(by_day), span.end)
    return [DayCount(day, *by_day.get(day, Totals())) for day in span.days()]


def live_hints(queryset: models.QuerySet) -> tuple[Counter, ...]:
    """The counters a queryset names exactly, still valid for its filters."""
    hints = getattr(queryset, "_live_counters", ())
    if hints and queryset.query.where == queryset._live_where:
        return hints
    return ()
