"""Per-counter aggregates: top-N lists, and the totals of many objects at once.

One row per counter from one SQL query (a counter has at most one row a day,
so today's row's marks come out of the same ``GROUP BY``), then one cache read
for today. See :mod:`tracker.aggregates` for what "live" means.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Max, Q, Sum, Value, When

from tracker.aggregates import (
    IDENTITY,
    LABEL_IDENTITY,
    OBJECT_IDENTITY,
    in_period,
    live_totals,
    read_today,
    row_counter,
)
from tracker.counters import local_today
from tracker.keys import Counter
from tracker.periods import Period, PeriodSpec, Ranked, Totals, resolve_period


def _per_counter(
    queryset: models.QuerySet,
    span: Period,
    today: datetime.date,
    identity: Sequence[str],
) -> models.QuerySet:
    """One row per counter with its sums over ``span`` and today's row's marks."""
    annotations: dict[str, Any] = {
        "c_count": Sum("counter"),
        "c_uniques": Sum("uniques"),
    }
    if today in span:
        # A counter has at most one row a day, so Max picks today's row's marks.
        today_only = {"day": today}
        annotations |= {
            "today_count": Sum(
                Case(When(**today_only, then=F("counter")), default=Value(0))
            ),
            "today_uniques": Sum(
                Case(When(**today_only, then=F("uniques")), default=Value(0))
            ),
            "mark": Max(Case(When(**today_only, then=F("counter_mark")))),
            "umark": Max(Case(When(**today_only, then=F("uniques_mark")))),
        }
    columns = {name: F(IDENTITY[name]) for name in identity}
    return (
        in_period(queryset, span).values(**columns).annotate(**annotations).order_by()
    )


def _with_today(
    folded: Totals, row: dict[str, Any], counter: Counter, values: dict[Counter, int]
) -> Totals:
    """A per-counter row's sums with today's folded counts replaced by live ones."""
    today = Totals(row["today_count"], row["today_uniques"])
    now = live_totals(
        counter, values, today, Totals(row["mark"] or 0, row["umark"] or 0)
    )
    return Totals(
        folded.count + now.count - today.count,
        folded.uniques + now.uniques - today.uniques,
    )


def _ranked(row: dict[str, Any]) -> Ranked:
    counter = row_counter(row)
    return Ranked(
        label=counter.label,
        count=row["c_count"],
        uniques=row["c_uniques"],
        category=counter.category,
        dom_id=counter.dom_id,
        model=counter.model,
        object_id=counter.object_id,
        content_type_id=row.get("i_content_type"),
    )


def top(
    queryset: models.QuerySet,
    n: int = 10,
    period: PeriodSpec = "30d",
    *,
    objects: bool = False,
) -> list[Ranked]:
    """The ``n`` label counters (or object counters) counted most over ``period``.

    Ranked by folded counts in SQL, then today's live counts are added to the
    ``n`` found and they are sorted again.
    """
    today = local_today()
    span = resolve_period(period, today=today)
    identity = OBJECT_IDENTITY if objects else LABEL_IDENTITY
    rows = queryset.filter(content_type__isnull=not objects)
    found = list(
        _per_counter(rows, span, today, identity).order_by("-c_count", *identity)[:n]
    )
    items = [_ranked(row) for row in found]
    if today in span:
        values = read_today([item.counter for item in items], today)
        for item, row in zip(items, found, strict=True):
            live = _with_today(
                Totals(item.count, item.uniques), row, item.counter, values
            )
            item.count, item.uniques = live
    return sorted(items, key=lambda item: -item.count)


def counter_totals(
    queryset: models.QuerySet, counters: Sequence[Counter], period: PeriodSpec
) -> dict[Counter, Totals]:
    """Live totals of many object counters over ``period``, in one query."""
    today = local_today()
    span = resolve_period(period, today=today)
    wanted = list(dict.fromkeys(counter.row() for counter in counters))
    if not wanted:
        return {}
    match = Q()
    for counter in wanted:
        app_label, _dot, model = counter.model.partition(".")
        match |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            object_id=counter.object_id,
            label=counter.label,
        )
    rows = {
        row_counter(row): row
        for row in _per_counter(queryset.filter(match), span, today, OBJECT_IDENTITY)
    }
    live = today in span
    values = read_today(wanted, today) if live else {}
    empty = dict.fromkeys(("c_count", "c_uniques", "today_count", "today_uniques"), 0)
    results = {}
    for counter in wanted:
        row = rows.get(counter) or {**empty, "mark": 0, "umark": 0}
        folded = Totals(row["c_count"], row["c_uniques"])
        results[counter] = _with_today(folded, row, counter, values) if live else folded
    return results


def resolve_objects(items: Sequence[Ranked], using: str | None = None) -> None:
    """Fill ``item.object`` of object entries: one query per model, none per item."""
    by_model: dict[str, list[Ranked]] = {}
    for item in items:
        if item.model:
            by_model.setdefault(item.model, []).append(item)
    for model_label, group in by_model.items():
        try:
            model = apps.get_model(model_label)
        except (LookupError, ValueError):
            continue
        ids = {}
        for item in group:
            try:
                ids[item.object_id] = model._meta.pk.to_python(item.object_id)
            except ValidationError:  # a stored id the model no longer accepts
                continue
        found = model._default_manager.db_manager(using).in_bulk(list(ids.values()))
        by_text = {str(pk): obj for pk, obj in found.items()}
        for item in group:
            item.object = by_text.get(item.object_id)
