"""tracker.rows: a batch of any size is one statement, on every database."""

from __future__ import annotations

import datetime

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tracker.keys import Counter, row_digest
from tracker.models import Statistic
from tracker.rows import INSERT_COLUMNS, insert_rows, update_rows

pytestmark = pytest.mark.django_db(databases="__all__")

DAY = datetime.date(2026, 11, 23)
# Over SQLite's 999 parameters per statement, so bulk_create would split it.
SIZE = 1500


def new_row(number: int) -> tuple:
    counter = Counter(f"row{number}", "cat")
    values = {
        "day": DAY,
        "label": counter.label,
        "category": counter.category,
        "dom_id": "",
        "content_type": None,
        "object_id": "",
        "counter": number + 1,
        "uniques": 0,
        "digest": row_digest(DAY, counter),
        "counter_mark": number + 1,
        "uniques_mark": 0,
    }
    return tuple(values[name] for name in INSERT_COLUMNS)


def test_a_batch_of_inserts_and_a_batch_of_updates_are_one_query_each(db_alias):
    with CaptureQueriesContext(connections[db_alias]) as inserted:
        insert_rows(db_alias, [new_row(number) for number in range(SIZE)])
    rows = Statistic.objects.using(db_alias).order_by("counter")
    assert len(inserted) == 1
    assert list(rows.values_list("counter", flat=True)) == list(range(1, SIZE + 1))

    changes = [(row.counter * 10, row.counter * 10, 7, 7, row.pk) for row in rows]
    with CaptureQueriesContext(connections[db_alias]) as updated:
        update_rows(db_alias, changes)
    assert len(updated) == 1
    assert sorted(rows.values_list("counter", "uniques", "counter_mark")) == [
        (number * 10, 7, number * 10) for number in range(1, SIZE + 1)
    ]
    assert rows.first().day == DAY


def test_empty_batches_send_nothing(db_alias):
    with CaptureQueriesContext(connections[db_alias]) as queries:
        insert_rows(db_alias, [])
        update_rows(db_alias, [])
    assert len(queries) == 0
