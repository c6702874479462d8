"""Template tags: ``{% load tracker_tags %}``."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django import template
from django.db import models
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tracker.charts import compact_number, sparkline
from tracker.exceptions import InvalidLabel
from tracker.labels import Item, parse_query
from tracker.models import Statistic, TrackedMixin
from tracker.periods import Summary, Totals, describe_period
from tracker.signing import object_token

register = template.Library()

# --- Script and beacons (issue 4): tracker_script, tracker_object -----------


@register.simple_tag
def tracker_script() -> SafeString:
    """The ``<script>`` tag of tracker.js, configured by ``data-`` attributes.

    No inline script, so it works under a strict Content-Security-Policy.
    """
    return format_html(
        '<script src="{}" data-track-url="{}" data-stats-url="{}" '
        'data-counts-url="{}" defer></script>',
        static("tracker/tracker.js"),
        reverse("tracker:track"),
        reverse("tracker:get_stats"),
        reverse("tracker:counts"),
    )


@register.simple_tag
def tracker_object(obj: models.Model | None, label: str = "view") -> SafeString:
    """A hidden element whose signed token makes tracker.js count one view of ``obj``.

    Renders nothing for ``None`` or an unsaved instance, so a template never
    breaks on a missing object.
    """
    if obj is None or getattr(obj, "pk", None) is None:
        return SafeString("")
    return format_html(
        '<span hidden data-tracker-object="{}"></span>', object_token(obj, label)
    )


# --- Counts, live counters, widgets, compact_count (issue 5) ----------------

# Where a tag looks for its object when none is given (djinsight's names).
CONTEXT_NAMES = ("object", "page", "article", "post", "item")
# Periods every summary holds; others cost one query each.
_SUMMARY_PERIODS = ("total", "today", "week", "month")

Subject = models.Model | Item


def _subject(context: template.Context, obj: Any) -> Subject | None:
    """The model instance or label item a tag is about; None when there is none."""
    if obj is None or obj == "":
        for name in CONTEXT_NAMES:
            found = context.get(name)
            if isinstance(found, models.Model) and found.pk is not None:
                return found
        return None
    if isinstance(obj, models.Model):
        return obj if obj.pk is not None else None
    if isinstance(obj, str):
        try:
            items = parse_query(obj)
        except InvalidLabel as error:
            raise template.TemplateSyntaxError(str(error)) from error
        if len(items) == 1:
            return items[0]
    raise template.TemplateSyntaxError(
        _("A tracker tag counts one model instance or one label, not %(obj)r.")
        % {"obj": obj}
    )


def _memo(context: template.Context) -> dict:
    # Kept on the Context: included templates and inclusion tags share it, so
    # a page pays one summary per object, whatever tags it uses.
    return context.__dict__.setdefault("_tracker_memo", {})


def _rows(subject: Subject, label: str) -> Any:
    if isinstance(subject, Item):
        return Statistic.objects.for_label(*subject)
    return Statistic.objects.db_manager(hints={"instance": subject}).for_object(
        subject, label
    )


def _key(subject: Subject, label: str) -> tuple:
    if isinstance(subject, Item):
        return ("label", *subject)
    return (subject._meta.concrete_model._meta.label_lower, str(subject.pk), label)


def _summary(context: template.Context, subject: Subject, label: str) -> Summary:
    if isinstance(subject, TrackedMixin):
        return subject.tracker_summary(label=label)
    memo, key = _memo(context), ("summary", _key(subject, label))
    if key not in memo:
        memo[key] = _rows(subject, label).summary()
    return memo[key]


def _totals(
    context: template.Context, subject: Subject, period: Any, label: str
) -> Totals:
    if period in _SUMMARY_PERIODS:
        return getattr(_summary(context, subject, label), period)
    memo, key = _memo(context), ("totals", _key(subject, label), str(period))
    if key not in memo:
        try:
            memo[key] = _rows(subject, label).totals(period)
        except ValueError as error:
            raise template.TemplateSyntaxError(str(error)) from error
    return memo[key]


@register.simple_tag(takes_context=True)
def tracker_count(
    context: template.Context,
    obj: Any = None,
    period: Any = "total",
    label: str = "view",
) -> int:
    """The count of an object (its ``label``, "view" by default) or of a label.

    ``{% tracker_count article "week" %}``, ``{% tracker_count "signup" %}``;
    the object is looked up in the context when not given.
    """
    subject = _subject(context, obj)
    return 0 if subject is None else _totals(context, subject, period, label).count


@register.simple_tag(takes_context=True)
def tracker_uniques(
    context: template.Context,
    obj: Any = None,
    period: Any = "total",
    label: str = "view",
) -> int:
    """Distinct visitors of an object or label over ``period`` (summed per day)."""
    subject = _subject(context, obj)
    return 0 if subject is None else _totals(context, subject, period, label).uniques


@register.simple_tag(takes_context=True)
def tracker_first_seen(
    context: template.Context, obj: Any = None, label: str = "view"
) -> datetime.date | str:
    """The first day an object or label was counted, or "" if never."""
    subject = _subject(context, obj)
    return (subject and _summary(context, subject, label).first_seen) or ""


@register.simple_tag(takes_context=True)
def tracker_last_seen(
    context: template.Context, obj: Any = None, label: str = "view"
) -> datetime.date | str:
    """The last day an object or label was counted (today included), or ""."""
    subject = _subject(context, obj)
    return (subject and _summary(context, subject, label).last_seen) or ""


def _interval(value: Any) -> int:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        seconds = 0
    if seconds < 1:
        raise template.TemplateSyntaxError(
            _("A live counter's interval is a whole number of seconds, not %(v)r.")
            % {"v": value}
        )
    return seconds


@register.simple_tag(takes_context=True)
def tracker_live(
    context: template.Context,
    obj: Any = None,
    period: Any = "today",
    interval: Any = 30,
    field: str = "count",
    label: str = "view",
    format: str = "",
) -> SafeString:
    """A count that tracker.js refreshes every ``interval`` seconds from counts/.

    ``field`` is "count" or "uniques"; ``format="compact"`` shows 1.2K. Needs
    ``{% tracker_script %}`` on the page. Renders nothing without an object.
    """
    if field not in ("count", "uniques"):
        raise template.TemplateSyntaxError(
            _('A live counter shows "count" or "uniques", not %(field)r.')
            % {"field": field}
        )
    seconds = _interval(interval)
    subject = _subject(context, obj)
    if not isinstance(subject, models.Model):
        return SafeString("")  # counts/ reads signed objects only
    value = getattr(_totals(context, subject, period, label), field)
    shown = compact_number(value) if format == "compact" else str(value)
    return format_html(
        '<span class="tracker-live" data-tracker-live="{}" data-tracker-period="{}" '
        'data-tracker-interval="{}" data-tracker-field="{}" '
        'data-tracker-format="{}" data-tracker-value="{}">{}</span>',
        object_token(subject, label),
        period,
        seconds,
        field,
        format,
        value,
        shown,
    )


@register.inclusion_tag("tracker/widget.html", takes_context=True)
def tracker_widget(
    context: template.Context,
    obj: Any = None,
    period: Any = "30d",
    label: str = "view",
    interval: Any = 30,
) -> dict[str, Any]:
    """A small analytics box: totals, periods, first/last seen, a sparkline."""
    subject = _subject(context, obj)
    if subject is None:
        return {"summary": None}
    try:
        series = _rows(subject, label).series(period)
    except ValueError as error:
        raise template.TemplateSyntaxError(str(error)) from error
    live = None
    if isinstance(subject, models.Model):
        live = tracker_live(context, subject, "today", interval, label=label)
    return {
        "summary": _summary(context, subject, label),
        "series": series,
        "period_count": sum(point.count for point in series),
        "period_name": describe_period(period),
        "sparkline": sparkline(series),
        "live": live,
        "subject": subject,
    }


@register.filter
def compact_count(value: Any) -> Any:
    """``1234`` -> ``1.2K``, ``1500000`` -> ``1.5M`` (truncated); other values as is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return value
    if isinstance(value, int | float | decimal.Decimal):
        return compact_number(value)
    return value
