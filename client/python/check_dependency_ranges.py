"""Tests the package's dependency ranges at both ends: one venv with the oldest versions
pyproject.toml allows (each `>=X` pinned to X) and one with the newest (pip's pick within the
ranges; protobuf must then be of the newest major the range allows, 7 today), each running a
smoke suite against a real daemon (tests/test_client.py, tests/test_errors.py).

    python check_dependency_ranges.py        (scripts/test.mjs runs it in `npm test`)

The venvs are kept under .tools/python-ranges/ and reused while pyproject.toml's ranges stay
the same; the newest one is re-resolved once a week (stamp: ranges + ISO week), so a new
grpcio or protobuf release is tried within days. A first run installs (about a minute)."""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = ROOT / ".tools" / "python-ranges"
# The test runner's own pin (scripts/install-tools.sh), not a dependency of the package.
PYTEST = "pytest==8.4.2"
SMOKE = ["tests/test_client.py", "tests/test_errors.py"]


def ranges() -> List[str]:
    """The [project] dependencies of pyproject.toml, as written (e.g. "protobuf>=6.31.1,<8")."""
    text = (HERE / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    if block is None:
        sys.exit("check_dependency_ranges: no dependencies list in pyproject.toml")
    return re.findall(r'"([^"]+)"', block.group(1))


def oldest(spec: str) -> str:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([^,]+),<.+", spec)
    if match is None:
        sys.exit(f"check_dependency_ranges: {spec!r} is not NAME>=LOW,<HIGH")
    return f"{match.group(1)}=={match.group(2)}"


def venv_with(name: str, requirements: List[str], stamp: str) -> Path:
    """A venv under .tools/python-ranges/NAME holding exactly these requirements (reused while `stamp` matches)."""
    home = CACHE / name
    python = home / "bin" / "python"
    stamp_file = home / ".stamp"
    if python.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return python
    shutil.rmtree(home, ignore_errors=True)
    print(f"check_dependency_ranges: {name} venv: {' '.join(requirements)}", flush=True)
    venv.create(home, with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements, PYTEST], check=True)
    stamp_file.write_text(stamp)
    return python


def installed(python: Path) -> Dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"], check=True, capture_output=True, text=True)
    return {item["name"].lower(): item["version"] for item in json.loads(out.stdout)}


def main() -> int:
    specs = ranges()
    week = datetime.date.today().isocalendar()
    ends = {
        "oldest": ([oldest(spec) for spec in specs], json.dumps(specs)),
        "newest": (specs, json.dumps([specs, f"{week[0]}-W{week[1]}"])),
    }
    failed = []
    for name, (requirements, stamp) in ends.items():
        python = venv_with(name, requirements, stamp)
        versions = installed(python)
        shown = ", ".join(f"{package} {versions.get(package, '?')}" for package in ("grpcio", "protobuf", "googleapis-common-protos"))
        print(f"\n--- {name}: {shown}", flush=True)
        if name == "oldest":
            for requirement in requirements:
                package, version = requirement.split("==")
                if versions.get(package.lower()) != version:
                    failed.append(f"oldest: {package} is {versions.get(package.lower())}, not {version}")
        else:
            # The newest protobuf major the range allows must be the one tested (7 for "<8").
            high = re.search(r"protobuf>=[^,]+,<(\d+)", " ".join(specs))
            if high and not versions.get("protobuf", "").startswith(f"{int(high.group(1)) - 1}."):
                failed.append(f"newest: protobuf {versions.get('protobuf')} is not of major {int(high.group(1)) - 1}")
        env = {**os.environ, "PYTHONPATH": str(HERE / "src")}
        run = subprocess.run([str(python), "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", *SMOKE], cwd=HERE, env=env)
        if run.returncode != 0:
            failed.append(f"{name}: the smoke suite failed")
    if failed:
        print("\ncheck_dependency_ranges: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("\ncheck_dependency_ranges: ok (oldest and newest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
