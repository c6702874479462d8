"""Helpers of the browser tests: the demo project in a subprocess, and Chromium.

The demo runs as it does for a newcomer (``manage.py rundemo``), on its own
temporary SQLite file, so a test sees the real middleware, static files and
templates. Chromium is the system's (Debian's ``chromium`` package), driven by
Playwright; tests skip when it is absent, except under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or fail under CI) unless Chromium and Playwright are installed."""
    require(
        os.access(CHROMIUM, os.X_OK),
        f"Chromium at {CHROMIUM} (Debian package 'chromium')",
    )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "Playwright for Python (pip install -e '.[test]')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def demo_server(workdir: Path, **env: str) -> Iterator[str]:
    """Run ``testproj/manage.py rundemo`` on a free port; yield its base URL."""
    port = free_port()
    log_path = workdir / "demo-server.log"
    environment = {
        **os.environ,
        # pytest-django exported the test settings; the demo has its own.
        "DJANGO_SETTINGS_MODULE": "testproj.settings",
        "TRACKER_DEMO_DB": str(workdir / "demo.sqlite3"),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "testproj" / "manage.py"),
                "rundemo",
                f"127.0.0.1:{port}",
                "--noreload",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the demo server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the demo server did not answer in 60 s:\n{log.read_text()}")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def eventually(check: Callable[[], Any], timeout: float = 15, step: float = 0.1):
    """Call ``check`` until it returns a truthy value; return it, or fail."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"still not true after {timeout} s (last: {last!r})")
