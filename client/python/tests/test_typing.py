"""The public API type-checks for a consumer under mypy --strict (tests/typing/consumer.py), and
the package's own code (src/corral_client, generated v1/ aside) is mypy --strict clean."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def test_a_consumer_type_checks_with_mypy_strict():
    pytest.importorskip("mypy", reason="mypy is installed into .tools/venv by scripts/install-tools.sh")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(HERE / "typing" / "consumer.py")],
        cwd=HERE.parent, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_itself_type_checks_with_mypy_strict():
    pytest.importorskip("mypy", reason="mypy is installed into .tools/venv by scripts/install-tools.sh")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(HERE.parent / "src" / "corral_client")],
        cwd=HERE.parent, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
