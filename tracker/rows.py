"""Writing a fold batch's rows: one statement per batch, whatever its size.

Django's ``bulk_create`` does the inserts where the database takes a whole
batch in one statement; otherwise, and for the updates, the statements are
written here (``bulk_update`` builds a ``CASE`` per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections

from tracker.models import Statistic

# The values of a new row, in this order.
INSERT_COLUMNS = (
    "day",
    "label",
    "category",
    "dom_id",
    "content_type",
    "object_id",
    "counter",
    "uniques",
    "digest",
    "counter_mark",
    "uniques_mark",
)
# The values of a changed row, in this order, followed by its id.
UPDATE_COLUMNS = ("counter", "counter_mark", "uniques", "uniques_mark")


def _column(name: str) -> str:
    return Statistic._meta.get_field(name).column


def insert_rows(db: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert a batch's new rows in one statement where the database allows it.

    Django's ``bulk_create`` sends one ``INSERT ... SELECT * FROM UNNEST(...)``
    on PostgreSQL; SQLite caps a statement at 999 parameters, so there one
    ``executemany`` (a single prepared statement) does the batch instead.
    """
    if not rows:
        return
    connection = connections[db]
    fields = [Statistic._meta.get_field(name) for name in INSERT_COLUMNS]
    if connection.ops.bulk_batch_size(fields, rows) < len(rows):
        _execute_many(db, _insert_sql(db), _adapt_inserts(db, rows))
        return
    names = [field.attname for field in fields]
    Statistic.objects.using(db).bulk_create(
        [Statistic(**dict(zip(names, row, strict=True))) for row in rows]
    )


def update_rows(db: str, rows: list[tuple[int, ...]]) -> None:
    """Write a batch's changed rows: ``(counter, mark, uniques, mark, id)`` each.

    On PostgreSQL, one ``UPDATE ... FROM UNNEST(...)``; elsewhere one
    ``executemany``. (Django's ``bulk_update`` builds a CASE per row, which
    grows quadratically with the batch.)
    """
    if not rows:
        return
    connection = connections[db]
    if connection.vendor != "postgresql":
        _execute_many(db, _update_sql(db), rows)
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(_column(name))} = v.{quote(_column(name))}" for name in UPDATE_COLUMNS
    )
    names = ", ".join([*(quote(_column(name)) for name in UPDATE_COLUMNS), "id"])
    arrays = ", ".join(["%s::bigint[]"] * (len(UPDATE_COLUMNS) + 1))
    sql = (
        f"UPDATE {quote(Statistic._meta.db_table)} AS s SET {assignments} "
        f"FROM UNNEST({arrays}) AS v({names}) "
        f"WHERE s.{quote(Statistic._meta.pk.column)} = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])


def _insert_sql(db: str) -> str:
    quote = connections[db].ops.quote_name
    columns = ", ".join(quote(_column(name)) for name in INSERT_COLUMNS)
    marks = ", ".join(["%s"] * len(INSERT_COLUMNS))
    return f"INSERT INTO {quote(Statistic._meta.db_table)} ({columns}) VALUES ({marks})"


def _update_sql(db: str) -> str:
    quote = connections[db].ops.quote_name
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in UPDATE_COLUMNS)
    return (
        f"UPDATE {quote(Statistic._meta.db_table)} SET {assignments} "
        f"WHERE {quote(Statistic._meta.pk.column)} = %s"
    )


def _adapt_inserts(db: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    day = connections[db].ops.adapt_datefield_value(rows[0][0])
    return [(day, *row[1:]) for row in rows]


def _execute_many(db: str, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One ``executemany``: Django logs it as one query."""
    with connections[db].cursor() as cursor:
        cursor.executemany(sql, rows)
