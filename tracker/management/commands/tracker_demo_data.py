"""``manage.py tracker_demo_data``: a few weeks of made-up history, for demos.

Rows are written for past days only, as a fold would have left them with
nothing more in the cache (``counter_mark`` 0): today belongs to real hits,
and a later fold of a past day's real hits adds them on top, counting none
twice. Days that already have a row for a counter are left as they are.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from tracker.counters import label_counters, local_today
from tracker.exceptions import InvalidLabel
from tracker.keys import Counter, row_digest
from tracker.models import Statistic

DEFAULT_LABELS = "signup|newsletter:footer|buy:shop:buy-btn|search:header|share:social"
_BATCH = 500


class Command(BaseCommand):
    help = (
        "Write plausible daily Statistic rows for the past days (not today): "
        "labels, and views of the objects of the models given with --model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=28, help="Days back (28).")
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="APP_LABEL.MODEL",
            help="Count views of this model's objects (repeatable).",
        )
        parser.add_argument(
            "--labels",
            default=DEFAULT_LABELS,
            help=f"Label counters, in the label syntax ({DEFAULT_LABELS!r}).",
        )
        parser.add_argument(
            "--object-label", default="view", help="Label of the objects' counts."
        )
        parser.add_argument(
            "--max-objects", type=int, default=50, help="Objects per model (50)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed (0).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 3660:
            raise CommandError("--days must be from 1 to 3660.")
        db = options["database"]
        try:
            counters = label_counters(options["labels"]) if options["labels"] else []
        except InvalidLabel as error:
            raise CommandError(f"--labels: {error}") from error
        counters += self._object_counters(options, db)
        if not counters:
            raise CommandError("Nothing to write: give --labels or --model.")
        rows = self._rows(counters, days, random.Random(options["seed"]), db)
        created = self._write(rows, db)
        self.stdout.write(
            f"Wrote {created} rows over the {days} days before today for "
            f"{len(counters)} counters ({len(rows) - created} already there)."
        )

    def _object_counters(self, options: dict[str, Any], db: str) -> list[Counter]:
        counters = []
        for name in options["model"]:
            try:
                model = apps.get_model(name)
            except (LookupError, ValueError) as error:
                raise CommandError(f"--model {name!r}: no such model.") from error
            model_label = model._meta.concrete_model._meta.label_lower
            keys = model._default_manager.db_manager(db).order_by("pk")
            keys = keys.values_list("pk", flat=True)[: options["max_objects"]]
            if not keys:
                self.stderr.write(f"{name} has no objects yet: no views written.")
            counters += [
                Counter(options["object_label"], model=model_label, object_id=str(pk))
                for pk in keys
            ]
        return counters

    def _rows(
        self, counters: list[Counter], days: int, rng: random.Random, db: str
    ) -> list[Statistic]:
        """A count per counter and day: popularity, weekly rhythm, growth, noise."""
        today = local_today()
        content_types = self._content_types(counters, db)
        rows = []
        for rank, counter in enumerate(counters):
            popularity = 160 / (1 + rank % 12) * rng.uniform(0.6, 1.4)
            for back in range(days, 0, -1):
                day = today - datetime.timedelta(days=back)
                weekly = (1.0, 1.05, 1.1, 1.0, 0.95, 0.6, 0.5)[day.weekday()]
                growth = 0.6 + 0.4 * (days - back) / days
                count = round(popularity * weekly * growth * rng.uniform(0.7, 1.3))
                if count < 1:
                    continue
                rows.append(
                    Statistic(
                        day=day,
                        label=counter.label,
                        category=counter.category,
                        dom_id=counter.dom_id,
                        content_type_id=content_types.get(counter.model),
                        object_id=counter.object_id,
                        counter=count,
                        uniques=max(1, round(count * rng.uniform(0.5, 0.85))),
                        digest=row_digest(day, counter),
                        counter_mark=0,
                        uniques_mark=0,
                    )
                )
        return rows

    def _content_types(self, counters: list[Counter], db: str) -> dict[str, int]:
        found = {}
        for model_label in {counter.model for counter in counters if counter.model}:
            model = apps.get_model(model_label)
            manager = ContentType.objects.db_manager(db)
            found[model_label] = manager.get_for_model(model).pk
        return found

    def _write(self, rows: list[Statistic], db: str) -> int:
        """Insert the rows whose day and counter have none yet; return how many."""
        created = 0
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            existing = set(
                Statistic.objects.using(db)
                .filter(digest__in=[row.digest for row in batch])
                .values_list("digest", flat=True)
            )
            new = [row for row in batch if row.digest not in existing]
            # A fold may insert the same row meanwhile: its row wins.
            Statistic.objects.using(db).bulk_create(new, ignore_conflicts=True)
            created += len(new)
        return created
