"""What the table was measured on: machine, load, versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata

PACKAGES = (
    "Django",
    "gunicorn",
    "pymemcache",
    "redis",
    "hiredis",
    "django-redis",
    "psycopg",
    "djinsight",
    "django-hitcount",
)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def _first_line(args: list[str]) -> str:
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    return (result.stdout or result.stderr).strip().splitlines()[0] if result else "-"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "-"


def describe() -> dict[str, str]:
    versions = {name: _version(name) for name in PACKAGES}
    return {
        "machine": f"{os.cpu_count()} cores ({cpu_model()}), shared",
        "python": platform.python_version(),
        "packages": ", ".join(f"{name} {v}" for name, v in versions.items()),
        "servers": "; ".join(
            [
                _first_line(["memcached", "-V"]),
                _first_line(["redis-server", "--version"]).split(" sha=")[0],
                _first_line(["wrk", "--version"]).split(" Copyright")[0],
            ]
        ),
    }


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
