"""Export ``Statistic`` rows as CSV or JSON, streamed in one query.

Labels come from anonymous clients, so CSV cells that a spreadsheet would
run as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.db import models
from django.http import StreamingHttpResponse

from tracker.counters import local_today

COLUMNS = (
    "day",
    "label",
    "category",
    "dom_id",
    "model",
    "object_id",
    "count",
    "uniques",
)
_VALUES = (
    "day",
    "label",
    "category",
    "dom_id",
    "content_type__app_label",
    "content_type__model",
    "object_id",
    "counter",
    "uniques",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _rows(queryset: models.QuerySet) -> Iterator[dict[str, Any]]:
    for values in (
        queryset.order_by("day", "pk").values_list(*_VALUES).iterator(chunk_size=2000)
    ):
        day, label, category, dom_id, app_label, model, object_id, count, uniques = (
            values
        )
        yield {
            "day": day.isoformat(),
            "label": label,
            "category": category,
            "dom_id": dom_id,
            "model": f"{app_label}.{model}" if app_label else "",
            "object_id": object_id,
            "count": count,
            "uniques": uniques,
        }


def safe_cell(value: Any) -> Any:
    """A CSV cell that spreadsheets will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose ``write`` returns what it was given."""

    def write(self, text: str) -> str:
        return text


def csv_lines(queryset: models.QuerySet) -> Iterator[str]:
    """The CSV text of ``queryset``'s rows, a header line first."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for row in _rows(queryset):
        yield writer.writerow([safe_cell(row[column]) for column in COLUMNS])


def json_chunks(queryset: models.QuerySet) -> Iterator[str]:
    """A JSON array of ``queryset``'s rows, one object per row."""
    yield "["
    for index, row in enumerate(_rows(queryset)):
        yield ("," if index else "") + "\n" + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def export_response(queryset: models.QuerySet, fmt: str) -> StreamingHttpResponse:
    """A download of the rows as ``fmt`` ("csv" or "json")."""
    chunks = csv_lines(queryset) if fmt == "csv" else json_chunks(queryset)
    response = StreamingHttpResponse(chunks, content_type=FORMATS[fmt])
    filename = f"statistics-{local_today():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
