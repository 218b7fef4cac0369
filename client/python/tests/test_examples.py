"""The examples in examples/python and examples/go run as the README says, against the daemon
running its built-in example config (as `npx corral server` does)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, start_daemon, stop_daemon


@pytest.fixture(scope="module")
def example_daemon():
    d = start_daemon(None)
    yield d
    stop_daemon(d)


def check_output(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ticker is PROCESS_STATE_RUNNING" in run.stdout
    assert "log: " in run.stdout
    assert run.stdout.count("status: ") >= 6
    assert "task ended: TASK_STATE_STOPPED" in run.stdout


def test_the_python_example_runs(example_daemon):
    script = REPO / "examples" / "python" / "follow_and_watch.py"
    check_output(subprocess.run([sys.executable, str(script), example_daemon.socket], capture_output=True, text=True, timeout=120))


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not on PATH")
def test_the_go_example_runs(example_daemon):
    env = {**os.environ, "CORRAL_HOME": example_daemon.home}
    env.pop("CORRAL_ADDRESS", None)
    run = subprocess.run(["go", "run", "."], cwd=REPO / "examples" / "go", env=env, capture_output=True, text=True, timeout=300)
    check_output(run)
