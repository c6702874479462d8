"""What ``get_stats/`` answers: counts by dom id, folded rows plus today's cache.

One SQL query reads the rows of the range; when the range includes today, one
cache round trip finds the counters created today for those dom ids and one
more reads their values. A row of today is combined with its cached value by
:func:`tracker.reports.live_total`, so a fold in between changes nothing.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from tracker.conf import tracker_settings
from tracker.counters import get_backend, local_today
from tracker.keys import Counter
from tracker.labels import parse_dom_ids
from tracker.models import Statistic
from tracker.reports import live_total

logger = logging.getLogger(__name__)

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class StatsQueryError(ValueError):
    """A ``get_stats/`` query that cannot be answered; the message says why."""


def read_query(
    params: Mapping[str, str],
) -> tuple[list[str], datetime.date, datetime.date]:
    """The dom ids and the day range (first, last) a ``get_stats/`` query asks for."""
    raw = params.get("dom_ids")
    if raw is None:
        raise StatsQueryError(
            _("Missing dom_ids: ask for ?dom_ids=first-id|second-id|...")
        )
    dom_ids = parse_dom_ids(raw, max_ids=tracker_settings.STATS_MAX_DOM_IDS)
    return dom_ids, *read_period(params)


def read_period(params: Mapping[str, str]) -> tuple[datetime.date, datetime.date]:
    """``day=YYYY-MM-DD``, ``days=N`` (ending today) or, by default, today."""
    today = local_today()
    day, days = params.get("day"), params.get("days")
    if day is not None and days is not None:
        raise StatsQueryError(_("Give day or days, not both."))
    if day is not None:
        try:
            if not _ISO_DAY.fullmatch(day):
                raise ValueError(day)
            found = datetime.date.fromisoformat(day)
        except ValueError as error:
            raise StatsQueryError(
                _("day must be a date such as 2024-05-31, not %(day)r.")
                % {"day": day[:40]}
            ) from error
        return found, found
    if days is not None:
        limit = tracker_settings.STATS_MAX_DAYS
        if not (days.isascii() and days.isdigit() and 1 <= int(days) <= limit):
            raise StatsQueryError(
                _("days must be a whole number from 1 to %(limit)d, not %(days)r.")
                % {"limit": limit, "days": days[:40]}
            )
        return today - datetime.timedelta(days=int(days) - 1), today
    return today, today


def dom_id_stats(
    dom_ids: Sequence[str], first: datetime.date, last: datetime.date
) -> list[list[object]]:
    """``[[dom_id, count, label], ...]``: one entry per dom id and label.

    Counts are summed over categories and days. Dom ids without a count in
    the range are left out. Entries follow the order of ``dom_ids``, then label.
    """
    if not dom_ids:
        return []
    today = local_today()
    totals: dict[tuple[str, str], int] = {}
    today_rows: dict[Counter, tuple[int, int]] = {}
    rows = (
        Statistic.objects.labels()
        .filter(dom_id__in=list(dom_ids), day__range=(first, last))
        .order_by()
        .values_list("day", "label", "category", "dom_id", "counter", "counter_mark")
    )
    for day, label, category, dom_id, count, mark in rows:
        if day == today:
            today_rows[Counter(label, category, dom_id)] = (count, mark)
        else:
            totals[dom_id, label] = totals.get((dom_id, label), 0) + count
    if first <= today <= last:
        for counter, count in _today(dom_ids, today, today_rows).items():
            key = (counter.dom_id, counter.label)
            totals[key] = totals.get(key, 0) + count
    order = {dom_id: position for position, dom_id in enumerate(dom_ids)}
    return [
        [dom_id, count, label]
        for (dom_id, label), count in sorted(
            totals.items(), key=lambda entry: (order[entry[0][0]], entry[0][1])
        )
        if count
    ]


def _today(
    dom_ids: Sequence[str],
    today: datetime.date,
    rows: dict[Counter, tuple[int, int]],
) -> dict[Counter, int]:
    """Today's live count of each counter of ``dom_ids``: its row plus the cache."""
    counters = dict.fromkeys(rows)
    values: dict[Counter, int] = {}
    try:
        backend = get_backend()
        for found in backend.read_dom_index(today, dom_ids).values():
            counters.update(dict.fromkeys(found))
        wanted = set(dom_ids)
        counters = {c: None for c in counters if c.dom_id in wanted and not c.model}
        values = backend.read_values(today, list(counters))
    except Exception as error:
        if not tracker_settings.FAIL_SILENTLY:
            raise
        # Answer with the folded counts rather than fail the page that asked.
        logger.warning(
            "tracker: could not read today's counts: %s", error, exc_info=True
        )
    return {
        counter: live_total(*rows.get(counter, (0, 0)), values.get(counter))
        for counter in counters
    }
