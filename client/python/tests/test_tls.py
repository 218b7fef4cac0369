"""The Python client over TLS with a bearer token (and a client certificate) against a real
daemon whose certificates are made by the repository's test PKI helper (openssl)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile

import grpc
import pytest

import corral_client
from corral_client import CorralError, TlsOptions
from conftest import REPO, start_daemon, stop_daemon

PKI_HELPER = REPO / "dist" / "test" / "helpers" / "make-test-pki.js"


@pytest.fixture(scope="module")
def secured():
    work = tempfile.mkdtemp(prefix="corral-py-tls-")
    pki = json.loads(subprocess.run(["node", str(PKI_HELPER), work], check=True, capture_output=True, text=True).stdout)
    tokens = {}
    for role in ("viewer", "operator"):
        tokens[role] = secrets.token_hex(24)
        path = os.path.join(work, f"{role}.token")
        with open(path, "w") as f:
            f.write(tokens[role] + "\n")
        os.chmod(path, 0o600)
    config = {
        "server": {
            "listen": ["127.0.0.1:0"],
            "tls": {"cert": pki["server"]["cert"], "key": pki["server"]["key"], "client_ca": pki["ca"], "require_client_cert": False},
            "auth": {
                "tokens": [{"name": f"py-{role}", "file": os.path.join(work, f"{role}.token"), "role": role} for role in tokens],
                "clients": [{"subject": "CN=alice", "role": "viewer"}],
            },
        },
        "programs": {"sleeper": {"command": ["sleep", "300"], "startsecs": 0}},
    }
    daemon = start_daemon(config)
    try:
        with daemon.client() as local:
            tcp = next(a for a in local.server_info().listen if a.startswith("127.0.0.1:"))
        yield {"daemon": daemon, "tcp": tcp, "pki": pki, "tokens": tokens, "work": work}
    finally:
        stop_daemon(daemon)
        shutil.rmtree(work, ignore_errors=True)


def test_connects_over_tls_with_a_token(secured):
    tls = TlsOptions(ca=secured["pki"]["ca"])
    with corral_client.connect(secured["tcp"], tls=tls, token=secured["tokens"]["operator"]) as corral:
        assert corral.server_info().pid == secured["daemon"].process.pid
        corral.stop("sleeper")
        corral.start("sleeper")
        # A server stream carries the token too.
        stream = corral.watch_events()
        first = next(iter(stream))
        stream.cancel()
        assert first.event.seq > 0


def test_token_file_and_roles(secured):
    tls = TlsOptions(ca=secured["pki"]["ca"])
    with corral_client.connect(secured["tcp"], tls=tls, token_file=os.path.join(secured["work"], "viewer.token")) as viewer:
        assert viewer.status("sleeper").name == "sleeper"
        with pytest.raises(CorralError) as denied:
            viewer.stop("sleeper")
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "StopProcess needs role operator" in denied.value.details()


def test_without_a_token_is_unauthenticated(secured):
    with corral_client.connect(secured["tcp"], tls=TlsOptions(ca=secured["pki"]["ca"])) as anonymous:
        with pytest.raises(CorralError) as refused:
            anonymous.server_info()
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_client_certificate_maps_to_its_role(secured):
    pki = secured["pki"]
    tls = TlsOptions(ca=pki["ca"], cert=pki["alice"]["cert"], key=pki["alice"]["key"])
    with corral_client.connect(secured["tcp"], tls=tls) as alice:
        assert alice.server_info().pid == secured["daemon"].process.pid
        with pytest.raises(CorralError) as denied:
            alice.stop("sleeper")
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
