#!/usr/bin/env python
"""The demo project's manage.py: ``python testproj/manage.py rundemo``."""

import os
import sys
from pathlib import Path


def main() -> None:
    # The demo is the package ``testproj`` next to ``tracker``: put the
    # repository root on the path so both import from a fresh clone.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "testproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
