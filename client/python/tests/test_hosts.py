"""corral_client.Hosts against two real daemons on 127.0.0.2 and 127.0.0.3 (one config, each
daemon named with --host-name): programs are routed to the daemon that owns them, list calls
fan out, and a stopped daemon is reported as an unreachable host while the other still acts."""
from __future__ import annotations

import socket
import time

import grpc
import pytest

import corral_client
from conftest import start_daemon, stop_daemon, wait_for

RUNNING = corral_client.ProcessState.PROCESS_STATE_RUNNING


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_hosts():
    addresses = {"lab1": f"127.0.0.2:{free_port('127.0.0.2')}", "lab2": f"127.0.0.3:{free_port('127.0.0.3')}"}
    sleeper = {"command": ["sleep", "300"], "startsecs": 0, "stop_timeout": "2s"}
    config = {
        # Plain loopback TCP is read-only without server.auth (secure by default): say auth: none.
        "server": {"auth": "none"},
        "hosts": {name: {"address": address} for name, address in addresses.items()},
        "programs": {"a1": {**sleeper, "host": "lab1"}, "b1": {**sleeper, "host": "lab2", "autostart": False}},
    }
    daemons = {}
    try:
        for name in addresses:
            daemons[name] = start_daemon(config, ["--host-name", name])
        yield addresses, daemons
    finally:
        for daemon in daemons.values():
            stop_daemon(daemon)


def test_routes_each_program_to_the_daemon_that_owns_it(two_hosts):
    addresses, daemons = two_hosts
    with corral_client.Hosts(addresses, deadline=3) as hosts:
        assert hosts.owner("a1") == "lab1"
        assert hosts.owner("b1") == "lab2"
        assert hosts.start("b1").state == RUNNING
        with daemons["lab2"].client() as lab2, daemons["lab1"].client() as lab1:
            assert lab2.status("b1").state == RUNNING
            assert lab1.status("b1").remote  # lab1 only lists it
        listed = hosts.list_processes()
        assert {host: [p.name for p in processes] for host, processes in listed.items()} == {"lab1": ["a1"], "lab2": ["b1"]}
        assert all(p.host == host for host, processes in listed.items() for p in processes)
        with pytest.raises(corral_client.CorralError) as missing:
            hosts.owner("nope")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_stopped_daemon_is_an_unreachable_host_and_the_other_still_acts(two_hosts):
    addresses, daemons = two_hosts
    with corral_client.Hosts(addresses, deadline=3) as hosts:
        assert hosts.owner("b1") == "lab2"
        stop_daemon(daemons["lab2"])
        began = time.monotonic()
        listed = hosts.list_processes()
        assert time.monotonic() - began < 15
        assert isinstance(listed["lab2"], corral_client.HostUnreachable)
        assert str(listed["lab2"]).startswith("host lab2 unreachable: ")
        assert [p.name for p in listed["lab1"]] == ["a1"]
        with pytest.raises(corral_client.HostUnreachable):
            hosts.stop("b1")
        assert hosts.restart("a1").state == RUNNING
