"""A real corral daemon for the tests: `node dist/server/daemon-entry.js` from this checkout
(build it first: `npm ci` or `npm run build`), in a temp home, stopped by its pid at the end."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

import sys

import pytest

# The package of this checkout, not whichever corral_client the venv has installed (it may be
# another worktree's editable install).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import corral_client  # noqa: E402

REPO = Path(os.environ.get("CORRAL_REPO", Path(__file__).resolve().parents[3]))
DAEMON_ENTRY = REPO / "dist" / "server" / "daemon-entry.js"
TASK_MODULE = REPO / "dist" / "examples" / "tasks" / "counter.js"

# ticker prints a numbered line every 100 ms; sleeper just sleeps (for stats).
CONFIG = {
    "programs": {
        "ticker": {
            "command": ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"],
            "autostart": False,
            "startsecs": "200ms",
            "stop_timeout": "5s",
        },
        "sleeper": {"command": ["sleep", "1000"], "autostart": False, "startsecs": 0},
    },
    "tasks": {"modules": [str(TASK_MODULE)]},
}


class Daemon:
    def __init__(self, home: str, process: subprocess.Popen) -> None:
        self.home = home
        self.process = process
        self.socket = os.path.join(home, "corral.sock")
        self.address = "unix://" + self.socket

    def client(self) -> corral_client.Client:
        return corral_client.connect(self.address)


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def start_daemon(config: Optional[dict], extra_args: Sequence[str] = (), home: Optional[str] = None) -> Daemon:
    """A daemon with this config (None: the built-in example that `corral server` runs) and
    extra daemon arguments (e.g. ["--host-name", "lab1"]), in `home` (default: a new temp dir;
    give the same home again to restart a daemon on it)."""
    if not DAEMON_ENTRY.exists():
        raise RuntimeError(f"{DAEMON_ENTRY} is missing: build the daemon first (npm run build)")
    home = home or tempfile.mkdtemp(prefix="corral-py-")
    args = ["node", str(DAEMON_ENTRY), "--home", home]
    if config is not None:
        config_path = os.path.join(home, "corral.yaml")
        with open(config_path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        args += ["--config", config_path]
    args += list(extra_args)
    log = open(os.path.join(home, "daemon.out"), "ab")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    daemon = Daemon(home, process)
    deadline = time.monotonic() + 60  # a daemon under load took 12 s to listen (as test/helpers/daemon.ts)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited during startup: {open(log.name).read()}")
        if os.path.exists(daemon.socket):
            with daemon.client() as client:
                try:
                    client.process_manager.GetServerInfo(corral_client.process_manager_pb2.GetServerInfoRequest(), timeout=2)
                    return daemon
                except corral_client.CorralError:
                    pass
        if time.monotonic() > deadline:
            stop_daemon(daemon)
            raise RuntimeError("daemon did not answer within 60 s")
        time.sleep(0.05)


def stop_daemon(daemon: Daemon, remove_home: bool = True) -> None:
    # Only our own child, by its pid: SIGTERM stops its programs, SIGKILL if it hangs.
    if daemon.process.poll() is None:
        os.kill(daemon.process.pid, signal.SIGTERM)
        try:
            daemon.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(daemon.process.pid, signal.SIGKILL)
            daemon.process.wait()
    if remove_home:
        shutil.rmtree(daemon.home, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon(request):
    """One daemon per test module: with the module's DAEMON_CONFIG when it has one, else CONFIG."""
    d = start_daemon(getattr(request.module, "DAEMON_CONFIG", CONFIG))
    yield d
    stop_daemon(d)
    assert d.process.returncode == 0, f"daemon exited with {d.process.returncode}"


@pytest.fixture
def corral(daemon):
    with daemon.client() as client:
        yield client
