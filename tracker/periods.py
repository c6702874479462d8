"""Periods (today, this week, this month, the last N days, any range) and results.

The queries themselves are in :mod:`tracker.aggregates`; querysets reach them
through :class:`tracker.querysets.PeriodQuerySetMixin`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker.counters import local_today
from tracker.keys import Counter

# Named periods; "<N>d" (the last N days, today included) and (start, end)
# pairs of dates are accepted too.
PERIODS = ("today", "yesterday", "week", "month", "year", "total")
MAX_DAYS = 36600
_DAYS = re.compile(r"^([0-9]{1,6})d$")


class Totals(NamedTuple):
    """A count and its distinct visitors (summed per day) over a period."""

    count: int = 0
    uniques: int = 0


class DayCount(NamedTuple):
    """One point of a daily series."""

    day: datetime.date
    count: int
    uniques: int


@dataclass(frozen=True)
class Period:
    """An inclusive range of local days; ``start`` None means "since the first row"."""

    start: datetime.date | None
    end: datetime.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, datetime.date) and (
            (self.start is None or self.start <= day) and day <= self.end
        )

    def days(self) -> list[datetime.date]:
        """Every day of the period, oldest first (needs a ``start``)."""
        if self.start is None:
            raise ValueError("An open period has no list of days.")
        span = (self.end - self.start).days + 1
        return [self.start + datetime.timedelta(days=n) for n in range(span)]


@dataclass(frozen=True)
class Summary:
    """An object's or label's counts over the usual periods, in one query."""

    total: Totals
    today: Totals
    week: Totals
    month: Totals
    first_seen: datetime.date | None
    last_seen: datetime.date | None


@dataclass
class Ranked:
    """One entry of a top-N list: a label counter or an object's label."""

    label: str
    count: int
    uniques: int
    category: str = ""
    dom_id: str = ""
    model: str = ""
    object_id: str = ""
    content_type_id: int | None = None
    object: Any = None  # filled by resolve_objects()

    @property
    def counter(self) -> Counter:
        if self.model:
            return Counter(self.label, model=self.model, object_id=self.object_id)
        return Counter(self.label, self.category, self.dom_id)


PeriodSpec = str | int | Period | tuple[datetime.date | str | None, datetime.date | str]


def resolve_period(
    period: PeriodSpec = "total", *, today: datetime.date | None = None
) -> Period:
    """Turn ``"week"``, ``"30d"``, ``7``, ``(start, end)``... into a :class:`Period`.

    Weeks are ISO weeks (Monday to Sunday) and all days are local days in
    ``settings.TIME_ZONE``; named periods end today. Raises ``ValueError``
    with a readable message for anything else.
    """
    today = today or local_today()
    if isinstance(period, Period):
        return period
    if isinstance(period, tuple):
        start, end = (_day(day) for day in period)
        if start is not None and start > end:
            raise ValueError(_("A period cannot start after it ends."))
        return Period(start, end)
    if isinstance(period, int) and not isinstance(period, bool):
        return _last_days(period, today)
    if isinstance(period, str):
        match = _DAYS.match(period)
        if match:
            return _last_days(int(match.group(1)), today)
        if period == "today":
            return Period(today, today)
        if period == "yesterday":
            yesterday = today - datetime.timedelta(days=1)
            return Period(yesterday, yesterday)
        if period == "week":
            return Period(today - datetime.timedelta(days=today.weekday()), today)
        if period == "month":
            return Period(today.replace(day=1), today)
        if period == "year":
            return Period(today.replace(month=1, day=1), today)
        if period == "total":
            return Period(None, today)
    raise ValueError(
        _("Unknown period %(period)r: use one of %(names)s, or '<N>d'.")
        % {"period": str(period)[:40], "names": ", ".join(PERIODS)}
    )


def _day(value: datetime.date | str | None) -> datetime.date | None:
    """A day given as a date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)  # ValueError when malformed
    return value


def _last_days(days: int, today: datetime.date) -> Period:
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(
            _("A period covers 1 to %(max)d days, not %(days)d.")
            % {"max": MAX_DAYS, "days": days}
        )
    return Period(today - datetime.timedelta(days=days - 1), today)


def describe_period(period: PeriodSpec) -> str:
    """A short human name for a period: "This week", "Last 30 days"..."""
    names = {
        "today": _("Today"),
        "yesterday": _("Yesterday"),
        "week": _("This week"),
        "month": _("This month"),
        "year": _("This year"),
        "total": _("All time"),
    }
    if isinstance(period, str) and period in names:
        return names[period]
    span = resolve_period(period)
    if span.start is None:
        return names["total"]
    days = (span.end - span.start).days + 1
    if span.end == local_today():
        return ngettext("Last %(n)d day", "Last %(n)d days", days) % {"n": days}
    return f"{span.start:%Y-%m-%d} – {span.end:%Y-%m-%d}"
