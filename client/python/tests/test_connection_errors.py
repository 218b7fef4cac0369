"""Every case of test/fixtures/connection-errors.json against real daemons, with the blocking and
the asyncio client: an unreachable daemon is an Unavailable whose connection_problem and
details() are the table's; a refused token is Unauthenticated with the daemon's reason. The
daemons and files come from the repository's scene helper (the same the TS and Go tests use)."""
from __future__ import annotations

import asyncio
import json
import os
import site
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import grpc
import pytest

import corral_client
import corral_client.aio
from corral_client import CorralError, TlsOptions
from conftest import REPO

SCENE_HELPER = REPO / "dist" / "test" / "helpers" / "serve-connection-scene.js"
TABLE = json.loads((REPO / "test" / "fixtures" / "connection-errors.json").read_text())["cases"]


@pytest.fixture(scope="module")
def scene() -> Iterator[Dict[str, Any]]:
    work = tempfile.mkdtemp(prefix="corral-py-conn-")
    # A client run as another user must reach the scene's files (the CA, its certificates).
    os.chmod(work, 0o755)
    helper = subprocess.Popen(["node", str(SCENE_HELPER), work], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert helper.stdout is not None
        line = helper.stdout.readline()
        if not line:
            pytest.fail("the scene helper printed nothing (see its stderr)")
        yield json.loads(line)
    finally:
        # Closing its stdin stops the scene's daemons; the helper is ours, stopped by its pid.
        assert helper.stdin is not None
        helper.stdin.close()
        try:
            helper.wait(timeout=60)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def _tls(case: Dict[str, Any]) -> Optional[TlsOptions]:
    tls = case.get("tls")
    if tls is None:
        return None
    return TlsOptions(ca=tls.get("ca"), cert=tls.get("cert"), key=tls.get("key"), server_name=tls.get("serverName"))


def _outcome(error: Optional[CorralError]) -> Dict[str, str]:
    if error is None:
        return {"code": "OK"}
    return {"code": error.code().name, "details": error.details(), "problem": error.connection_problem, "reason": error.reason}


def call_blocking(case: Dict[str, Any]) -> Dict[str, str]:
    with corral_client.connect(case["address"], tls=_tls(case), token=case.get("token")) as client:
        try:
            client.server_info(deadline=20)
            return _outcome(None)
        except CorralError as error:
            assert isinstance(error, grpc.RpcError)
            return _outcome(error)


def call_async(case: Dict[str, Any]) -> Dict[str, str]:
    async def run() -> Dict[str, str]:
        async with corral_client.aio.connect(case["address"], tls=_tls(case), token=case.get("token")) as client:
            try:
                await client.server_info(deadline=20)
                return _outcome(None)
            except CorralError as error:
                return _outcome(error)

    return asyncio.run(run())


# Run as uid 65534 for the socket-permission case (root passes every file mode).
AS_OTHER_USER = """
import json, sys
sys.path.insert(0, sys.argv[2])
import corral_client
case = json.loads(sys.argv[1])
with corral_client.connect(case["address"]) as client:
    try:
        client.server_info(deadline=20)
        print(json.dumps({"code": "OK"}))
    except corral_client.CorralError as e:
        print(json.dumps({"code": e.code().name, "details": e.details(), "problem": e.connection_problem, "reason": e.reason}))
"""


def call_as_other_user(case: Dict[str, Any]) -> Dict[str, str]:
    src = str(Path(corral_client.__file__).resolve().parents[1])
    # This interpreter may live where uid 65534 cannot go (a pyenv under /root): then the
    # system's python3 of the same minor version, with this venv's packages on its path.
    env = {"PYTHONPATH": os.pathsep.join(site.getsitepackages()), "PATH": "/usr/bin:/bin"}
    last: Optional[OSError] = None
    for interpreter in (sys.executable, "/usr/bin/python3"):
        try:
            done = subprocess.run(
                [interpreter, "-c", AS_OTHER_USER, json.dumps(case), src],
                user=65534, group=65534, env=env, capture_output=True, text=True, timeout=60, check=True,
            )
        except PermissionError as error:
            last = error
            continue
        result: Dict[str, str] = json.loads(done.stdout)
        return result
    pytest.fail(f"no Python interpreter that uid 65534 may run: {last}")


def test_the_scene_is_sound(scene: Dict[str, Any]) -> None:
    good = scene["good"]
    case = {"address": good["address"], "tls": good["tls"], "token": good["token"]}
    assert call_blocking(case) == {"code": "OK"}


@pytest.mark.parametrize("name", [c.get("problem") or c["reason"] for c in TABLE])
def test_each_connection_problem_is_named(scene: Dict[str, Any], name: str) -> None:
    case = next(c for c in scene["cases"] if (c.get("problem") or c.get("reason")) == name)
    expected = {"code": case["code"], "details": case["message"], "problem": case.get("problem", ""), "reason": case.get("reason", "")}
    if case["asOtherUser"]:
        assert call_as_other_user(case) == expected
        return
    assert call_blocking(case) == expected
    if case.get("token") and not case.get("tls"):
        return  # grpc.aio sends tokens over TLS only
    assert call_async(case) == expected
