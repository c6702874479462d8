"""``manage.py tracker_report``: fold the cached counts into Statistic rows (cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from tracker.exceptions import FoldError
from tracker.reports import fold


class Command(BaseCommand):
    help = "Move the counts kept in the cache into daily Statistic rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing on success."
        )
        parser.add_argument(
            "--database",
            default=None,
            choices=tuple(connections),
            help="Database alias to fold into (default: the router's choice).",
        )

    def handle(
        self,
        *args: Any,
        quiet: bool = False,
        database: str | None = None,
        **options: Any,
    ) -> None:
        try:
            summary = fold(using=database)
        except FoldError as error:
            raise CommandError(str(error)) from error
        if not quiet:
            self.stdout.write(str(summary))
