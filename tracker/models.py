"""Daily ``Statistic`` rows, and the original django-tracker's names for the API."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from tracker.counters import Tracker
from tracker.keys import Counter
from tracker.labels import (
    MAX_CATEGORY_LENGTH,
    MAX_DOM_ID_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_OBJECT_ID_LENGTH,
)


class StatisticQuerySet(models.QuerySet):
    """Filters shared by the admin, the stats endpoint and the period API."""

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
        return rows if label is None else rows.filter(label=label)


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


def make_daily_report(**options: Any) -> Any:
    """The original django-tracker's name for :func:`tracker.reports.fold`."""
    from tracker.reports import fold

    return fold(**options)


__all__ = ["FoldLock", "Statistic", "Tracker", "make_daily_report"]
