"""``manage.py rundemo [addrport]``: set the demo up, then run the dev server."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from testproj.demo.models import Article

ARTICLES = [
    (
        "Counting in the cache",
        "Every hit is one atomic increment in Django's cache; the database "
        "only sees a fold now and then.",
    ),
    (
        "Folding exactly once",
        "Each daily row remembers the cached value it folded last, so a fold "
        "can be repeated, doubled or killed without losing or doubling a count.",
    ),
    (
        "Heat maps from dom ids",
        "A label:category:dom_id item ties a counter to an element of a page; "
        "get_stats/ answers the counts by dom id.",
    ),
]


class Command(BaseCommand):
    help = (
        "Migrate, create the admin/admin superuser and a few articles if missing, "
        "then run the development server (default 127.0.0.1:8000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="ip:port or port"
        )
        parser.add_argument(
            "--noreload",
            action="store_false",
            dest="use_reloader",
            help="Do not restart the server when code changes.",
        )

    def handle(
        self, *args: Any, addrport: str, use_reloader: bool, **options: Any
    ) -> None:
        # The autoreloader runs this command again in a child process (with
        # RUN_MAIN set); the set-up is already done by then.
        if os.environ.get("RUN_MAIN") != "true":
            self.set_up()
        call_command("runserver", addrport, use_reloader=use_reloader)

    def set_up(self) -> None:
        """Migrate, and create what the demo needs unless it exists."""
        call_command("migrate", interactive=False, verbosity=0)
        users = get_user_model().objects
        if not users.filter(username="admin").exists():
            users.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created the superuser admin (password: admin).")
        if not Article.objects.exists():
            Article.objects.bulk_create(
                Article(title=title, body=body) for title, body in ARTICLES
            )
        self.stdout.write(
            "The demo: pages at /, /links/, /jquery/ and /articles/; "
            "the admin at /admin/ (admin / admin)."
        )
