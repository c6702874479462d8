"""The period API of ``Statistic.objects``: a mixin for ``StatisticQuerySet``."""

from __future__ import annotations

from typing import Any

from django.db import models

from tracker import aggregates, rankings
from tracker.aggregates import live_hints
from tracker.keys import Counter
from tracker.periods import DayCount, PeriodSpec, Ranked, Summary, Totals


class PeriodQuerySetMixin:
    """Period queries for ``StatisticQuerySet`` (see :mod:`tracker.aggregates`)."""

    _live_counters: tuple[Counter, ...] = ()
    _live_where: Any = None

    def _clone(self) -> Any:
        clone = super()._clone()
        clone._live_counters = self._live_counters
        clone._live_where = self._live_where
        return clone

    def _named(self, before: Any, counter: Counter) -> Any:
        """Remember that the filters just applied name exactly ``counter``.

        Only when ``before`` had no filter of its own (or named the same
        counter): otherwise a filter might exclude the counter, and its live
        count must not be added.
        """
        if before.query.where and counter not in live_hints(before):
            return self
        self._live_counters = (counter,)
        self._live_where = self.query.where.clone()
        return self

    def for_label(
        self, label: str, category: str | None = None, dom_id: str | None = None
    ) -> Any:
        """Rows of a label counter; ``None`` for category or dom id means any."""
        filters = {"content_type__isnull": True, "label": label}
        if category is not None:
            filters["category"] = category
        if dom_id is not None:
            filters["dom_id"] = dom_id
        rows = self.filter(**filters)
        return rows._named(self, Counter(label, category or "", dom_id or ""))

    def for_category(self, category: str) -> Any:
        """Rows of label counters of one category."""
        return self.filter(content_type__isnull=True, category=category)

    def for_dom_id(self, dom_id: str) -> Any:
        """Rows of label counters tied to one element id."""
        return self.filter(content_type__isnull=True, dom_id=dom_id)

    def totals(self, period: PeriodSpec = "total") -> Totals:
        """Count and distinct visitors over ``period``, today's live counts included."""
        return aggregates.period_totals(self, period)

    def summary(self) -> Summary:
        """Total, today, week, month, first and last day seen: one query."""
        return aggregates.summarize(self)

    def series(self, period: PeriodSpec = "30d") -> list[DayCount]:
        """A point per day of ``period`` for a chart, zeros included."""
        return aggregates.daily_series(self, period)

    def top_labels(self, n: int = 10, period: PeriodSpec = "30d") -> list[Ranked]:
        """The ``n`` label counters counted most over ``period``."""
        return rankings.top(self, n, period)

    def top_objects(
        self,
        n: int = 10,
        period: PeriodSpec = "30d",
        *,
        model: type[models.Model] | None = None,
        label: str | None = None,
    ) -> list[Ranked]:
        """The ``n`` objects counted most over ``period`` (``item.object`` set)."""
        rows = self
        if model is not None:
            meta = model._meta.concrete_model._meta
            rows = rows.filter(
                content_type__app_label=meta.app_label,
                content_type__model=meta.model_name,
            )
        if label is not None:
            rows = rows.filter(label=label)
        items = rankings.top(rows, n, period, objects=True)
        rankings.resolve_objects(items, using=self.db)
        return items
