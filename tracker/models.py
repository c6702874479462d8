"""Daily ``Statistic`` rows, and the original django-tracker's names for the API."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from tracker.counters import Tracker, object_counter
from tracker.keys import Counter
from tracker.labels import (
    MAX_CATEGORY_LENGTH,
    MAX_DOM_ID_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_OBJECT_ID_LENGTH,
)
from tracker.periods import PeriodSpec, Summary, Totals
from tracker.querysets import PeriodQuerySetMixin


class StatisticQuerySet(PeriodQuerySetMixin, models.QuerySet):
    """Filters shared by the admin, the stats endpoint and the period API.

    The period API (``totals()``, ``summary()``, ``series()``, ``top_labels()``,
    ``top_objects()``) lives in :mod:`tracker.periods`.
    """

    def labels(self) -> StatisticQuerySet:
        """Rows of label counters (not of objects)."""
        return self.filter(content_type__isnull=True)

    def objects_only(self) -> StatisticQuerySet:
        """Rows of per-object counters."""
        return self.filter(content_type__isnull=False)

    def for_object(
        self, obj: models.Model, label: str | None = None
    ) -> StatisticQuerySet:
        """Rows of one model instance (any primary-key type)."""
        content_type = ContentType.objects.db_manager(self.db).get_for_model(obj)
        rows = self.filter(content_type=content_type, object_id=str(obj.pk))
        if label is None:
            return rows
        # Naming the exact counter lets period queries read it live today.
        return rows.filter(label=label)._named(self, object_counter(obj, label))


class Statistic(models.Model):
    """The count of one label (or one object's label) on one day.

    Field names are the original django-tracker's. Rows are written only by
    the fold (:func:`tracker.reports.fold`); ``counter_mark`` and
    ``uniques_mark`` remember the cached value folded last, which is what
    makes a fold safe to repeat, to run twice at once, or to kill.
    """

    day = models.DateField(_("day"))
    label = models.CharField(_("label"), max_length=MAX_LABEL_LENGTH)
    category = models.CharField(
        _("category"), max_length=MAX_CATEGORY_LENGTH, blank=True, default=""
    )
    dom_id = models.CharField(
        _("dom id"), max_length=MAX_DOM_ID_LENGTH, blank=True, default=""
    )
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("content type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    object_id = models.CharField(
        _("object id"), max_length=MAX_OBJECT_ID_LENGTH, blank=True, default=""
    )
    content_object = GenericForeignKey("content_type", "object_id")
    counter = models.PositiveBigIntegerField(_("count"), default=0)
    uniques = models.PositiveBigIntegerField(_("distinct visitors"), default=0)
    digest = models.CharField(_("digest"), max_length=24, unique=True, editable=False)
    counter_mark = models.BigIntegerField(
        _("last folded value"), default=0, editable=False
    )
    uniques_mark = models.BigIntegerField(
        _("last folded distinct value"), default=0, editable=False
    )

    objects = StatisticQuerySet.as_manager()

    class Meta:
        verbose_name = _("statistic")
        verbose_name_plural = _("statistics")
        ordering = ["-day", "label"]
        get_latest_by = "day"
        constraints = [
            # The identity. Label rows have no content type; Coalesce makes them
            # collide as they should (NULLs never do in a unique index).
            models.UniqueConstraint(
                Coalesce(models.F("content_type"), models.Value(0)),
                models.F("day"),
                models.F("label"),
                models.F("category"),
                models.F("dom_id"),
                models.F("object_id"),
                name="tracker_statistic_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["day"], name="tracker_stat_day"),
            models.Index(fields=["label", "day"], name="tracker_stat_label_day"),
            models.Index(fields=["dom_id", "day"], name="tracker_stat_dom_day"),
            models.Index(
                fields=["content_type", "object_id", "day"],
                name="tracker_stat_object_day",
            ),
        ]

    def __str__(self) -> str:
        if self.content_type_id:
            subject = f"{self.label} of {self._model_label()} {self.object_id}"
        else:
            details = ", ".join(
                filter(None, [self.category, self.dom_id and f"#{self.dom_id}"])
            )
            subject = f"{self.label} ({details})" if details else self.label
        return f"{subject} on {self.day:%Y-%m-%d}: {self.counter}"

    def _model_label(self) -> str:
        # get_for_id() is cached per process: no query per row in the admin.
        manager = ContentType.objects.db_manager(self._state.db or "default")
        content_type = manager.get_for_id(self.content_type_id)
        return f"{content_type.app_label}.{content_type.model}"

    def as_counter(self) -> Counter:
        """The cache counter this row folds (its identity apart from the day)."""
        if self.content_type_id:
            return Counter(
                self.label, model=self._model_label(), object_id=self.object_id
            )
        return Counter(self.label, self.category, self.dom_id)


class FoldLock(models.Model):
    """A row each fold batch updates first, so that concurrent folds take turns.

    Updating it takes a row lock on PostgreSQL and MySQL and the write lock on
    SQLite, before the batch reads anything; see :mod:`tracker.reports`.
    """

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    batches = models.PositiveBigIntegerField(_("batches folded"), default=0)
    updated = models.DateTimeField(_("last folded"), null=True, blank=True)

    class Meta:
        verbose_name = _("fold lock")
        verbose_name_plural = _("fold locks")

    def __str__(self) -> str:
        return f"{self.name} ({self.batches} batches)"


class TrackedMixin:
    """Read access to a model instance's counts; adds no field and no migration.

    ``class Article(TrackedMixin, models.Model)``, then ``article.total_views``,
    ``unique_views``, ``views_today``, ``views_this_week``, ``views_this_month``,
    ``first_viewed`` and ``last_viewed`` (local dates). They share one summary
    per instance: one query and one cache read, whatever is shown.
    """

    tracker_label = "view"

    def tracker_rows(self, label: str | None = None) -> StatisticQuerySet:
        """This instance's ``Statistic`` rows for ``label`` (``tracker_label``)."""
        # The instance hint lets database routers (and, without any, the
        # instance's own database) choose where the rows are read.
        rows = Statistic.objects.db_manager(hints={"instance": self})
        return rows.for_object(self, label or self.tracker_label)

    def tracker_counts(
        self, period: PeriodSpec = "total", *, label: str | None = None
    ) -> Totals:
        """Count and distinct visitors over ``period`` (see ``resolve_period``)."""
        return self.tracker_rows(label).totals(period)

    def tracker_summary(self, *, label: str | None = None) -> Summary:
        """Total, today, week, month, first and last day seen; kept on the instance."""
        memo = self.__dict__.setdefault("_tracker_summaries", {})
        label = label or self.tracker_label
        if label not in memo:
            memo[label] = self.tracker_rows(label).summary()
        return memo[label]

    def count_view(self, request: Any = None, *, label: str | None = None) -> bool:
        """Count a view (and its distinct visitor, given ``request``) now."""
        self.__dict__.pop("_tracker_summaries", None)
        return Tracker().incr_object(self, label or self.tracker_label, request=request)

    @property
    def total_views(self) -> int:
        return self.tracker_summary().total.count

    @property
    def unique_views(self) -> int:
        return self.tracker_summary().total.uniques

    @property
    def views_today(self) -> int:
        return self.tracker_summary().today.count

    @property
    def views_this_week(self) -> int:
        return self.tracker_summary().week.count

    @property
    def views_this_month(self) -> int:
        return self.tracker_summary().month.count

    @property
    def first_viewed(self) -> datetime.date | None:
        return self.tracker_summary().first_seen

    @property
    def last_viewed(self) -> datetime.date | None:
        return self.tracker_summary().last_seen


def make_daily_report(**options: Any) -> Any:
    """The original django-tracker's name for :func:`tracker.reports.fold`."""
    from tracker.reports import fold

    return fold(**options)


__all__ = ["FoldLock", "Statistic", "TrackedMixin", "Tracker", "make_daily_report"]
