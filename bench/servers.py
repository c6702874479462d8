"""Starting and stopping what the benchmark talks to: memcached, Redis, gunicorn."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, seconds: float = 20, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited ({process.returncode})")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Processes:
    """The processes this run started, stopped in reverse order at the end."""

    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, args: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(args, **kwargs)
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)
        self.started.clear()


def ensure_memcached(processes: Processes, port: int) -> None:
    """Use the memcached on ``port``, or start one (in the foreground, our child)."""
    if port_open(port):
        return
    binary = shutil.which("memcached")
    if binary is None:
        raise RuntimeError(
            "memcached is not installed (Debian: apt-get install memcached)"
        )
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = processes.start(
        [binary, *user, "-l", "127.0.0.1", "-p", str(port), "-m", "512", "-t", "2"]
    )
    wait_port(port, process=process)


def ensure_redis(processes: Processes, port: int) -> None:
    """Use the Redis on ``port``, or start one without persistence."""
    if port_open(port):
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian: redis-server)")
    process = processes.start(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        + ["--appendonly", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port, process=process)


@dataclass
class Server:
    """One gunicorn serving the benchmark project with one configuration."""

    name: str
    port: int
    env: dict[str, str]
    served_file: str
    process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start_gunicorn(processes: Processes, server: Server, log_dir: Path) -> None:
    """Start a gunicorn (not waiting for it: servers start in parallel)."""
    env = {**os.environ, **server.env, "BENCH_SERVED_FILE": server.served_file}
    env["PYTHONPATH"] = str(ROOT)
    log = open(log_dir / f"gunicorn-{server.name}.log", "wb")  # noqa: SIM115
    server.process = processes.start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "bench/project/gunicorn_conf.py"),
        ]
        + ["-b", f"127.0.0.1:{server.port}", "bench.project.wsgi:application"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
