"""gaffer's process options through the Python client against real daemons: redirect_output
labels stdout and stderr in read and followed logs; custom_streams give the child extra fds
(3, 4, ..., named by CORRAL_STREAM_<NAME>) whose output is read and followed by name; detach
leaves a run running through the daemon's shutdown for the next daemon to adopt and stop.
Also CGSE's list_processes in CGSE's shape."""
from __future__ import annotations

import os
import tempfile

import pytest

import corral_client
from corral_client import LogStream, ProcessState, ShutdownHow, cgse

from conftest import start_daemon, stop_daemon, wait_for

SCRIPT = "; ".join([
    'echo "progress=$CORRAL_STREAM_PROGRESS metrics=$CORRAL_STREAM_METRICS"',
    "echo oops >&2",
    "echo cpu=1 >&4",
    'i=0; while :; do i=$((i+1)); echo "p $i" >&3; sleep 0.05; done',
])

DAEMON_CONFIG = {
    "programs": {
        "gaffer": {
            "command": ["/bin/sh", "-c", SCRIPT],
            "autostart": False,
            "startsecs": 0,
            "redirect_output": ["out", "err"],
            "custom_streams": ["progress", "metrics"],
        },
        "marked": {"command": ["sleep", "1003"], "autostart": False, "startsecs": 0},
    },
}


def alive(pid: int) -> bool:
    """Running and not a zombie (the test's own look at /proc, not the daemon's)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_labels_and_custom_streams_are_read_and_followed_by_name(corral):
    corral.start("gaffer")
    try:
        wait_for(lambda: b"p 3\n" in corral.read_logs("gaffer", stream_name="progress").chunk.data, 30, "three progress lines")
        out = corral.read_logs("gaffer", stream_name="out").chunk
        assert (out.data, out.stream, out.stream_name) == (b"progress=3 metrics=4\n", LogStream.Value("LOG_STREAM_STDOUT"), "out")
        err = corral.read_logs("gaffer", stream=LogStream.Value("LOG_STREAM_STDERR")).chunk
        assert (err.data, err.stream_name) == (b"oops\n", "err")
        metrics = corral.read_logs("gaffer", stream_name="metrics").chunk
        assert (metrics.data, metrics.stream, metrics.stream_name) == (b"cpu=1\n", LogStream.Value("LOG_STREAM_CUSTOM"), "metrics")
        assert corral.read_logs("gaffer", stream_name="progress").chunk.data.startswith(b"p 1\np 2\np 3\n")

        seen = []
        with corral.follow_logs("gaffer", stream_names=["progress", "err"], tail_lines=1) as chunks:
            for item in chunks:
                seen.append((item.chunk.stream_name, item.chunk.data))
                if {"progress", "err"} <= {name for name, _ in seen} and len(seen) >= 3:
                    break
        assert ("err", b"oops\n") in seen
        assert all(data.startswith(b"p ") for name, data in seen if name == "progress")

        with pytest.raises(corral_client.InvalidArgument) as refused:
            corral.read_logs("gaffer", stream_name="nope")
        assert "is not a stream of gaffer; its streams are out (stdout), err (stderr), progress, metrics" in refused.value.details()
    finally:
        corral.stop("gaffer")


def test_cgse_list_processes_gives_pid_status_and_cmdline(corral):
    run = corral.start("marked").run
    try:
        # Once the child has exec'd sleep (RUNNING comes at once with startsecs 0), it is listed as sleeping.
        expected = [{"pid": run.pid, "status": "sleeping", "cmdline": "sleep 1003"}]
        wait_for(lambda: cgse.list_processes(["sleep", "1003"], client=corral) == expected, 10, f"the listing {expected}")
        listed = cgse.list_processes(["sleep", "1003"], client=corral)
        assert listed == expected
        assert cgse.list_processes(["sleep", "1003"], contains=False, client=corral) == listed  # each item equals an argument
        assert cgse.list_processes(["SLEEP"], case_sensitive=True, client=corral) == []
        with pytest.raises(ValueError):
            cgse.list_processes([], client=corral)
    finally:
        stopped = corral.stop("marked")
    assert stopped.survivors == [] and stopped.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_SOFT")


DETACH_CONFIG = {
    "programs": {
        "kept": {
            "command": ["/bin/sh", "-c", 'i=0; while :; do i=$((i+1)); echo "p $i" >&3; sleep 0.05; done'],
            "startsecs": 0,
            "detach": True,
            "custom_streams": ["progress"],
        },
        "plain": {"command": ["sleep", "1004"], "startsecs": 0},
    },
}


def test_detach_survives_the_daemon_shutdown_and_the_next_daemon_adopts_and_stops_it():
    home = tempfile.mkdtemp(prefix="corral-py-")
    running = ProcessState.Value("PROCESS_STATE_RUNNING")
    pids = []
    try:
        first = start_daemon(DETACH_CONFIG, home=home)
        try:
            with first.client() as client:
                wait_for(lambda: all(p.state == running for p in client.list_processes()), 30, "both programs RUNNING")
                before = {p.name: p.run for p in client.list_processes()}
                pids = [before["kept"].pid, before["plain"].pid]
        finally:
            stop_daemon(first, remove_home=False)  # SIGTERM: the daemon's orderly shutdown
        assert first.process.returncode == 0
        assert alive(before["kept"].pid), "the detached run outlives the daemon's shutdown"
        assert not alive(before["plain"].pid), "the other program was stopped"

        second = start_daemon(DETACH_CONFIG, home=home)
        try:
            with second.client() as client:
                wait_for(lambda: all(p.state == running for p in client.list_processes()), 30, "both programs RUNNING again")
                kept = client.status("kept")
                pids.append(client.status("plain").run.pid)
                assert (kept.run.pid, kept.run.run_id) == (before["kept"].pid, before["kept"].run_id), "adopted: the same run"
                lines = client.read_logs("kept", stream_name="progress").chunk.data.decode().split()
                numbers = [int(n) for n in lines[1::2]]
                assert numbers == list(range(1, len(numbers) + 1)), "the custom stream lost nothing across the shutdown"
                stopped = client.stop("kept")
                assert stopped.was_running and stopped.shutdown.pid == before["kept"].pid
                assert stopped.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_SOFT") and stopped.survivors == []
                assert not alive(before["kept"].pid), "an explicit stop stops a detached program"
        finally:
            stop_daemon(second)
    finally:
        # Whatever is left of the test's programs, by their process groups.
        for pid in pids:
            try:
                os.killpg(pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
