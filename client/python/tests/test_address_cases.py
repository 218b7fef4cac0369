"""The address rules as one table (test/fixtures/address-cases.json), shared with the daemon's,
the TypeScript client's and the Go client's tests."""
import json
import os

import pytest

from conftest import REPO
from corral_client import resolve_address

CASES = json.loads((REPO / "test/fixtures/address-cases.json").read_text())["resolve"]


@pytest.mark.parametrize("case", CASES, ids=[c["why"] for c in CASES])
def test_resolve_address_follows_the_shared_table(case):
    target = case["target"].replace("{cwd}", os.getcwd())
    assert resolve_address(case["address"] or None, env=case.get("env", {})) == target
