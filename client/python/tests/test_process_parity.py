"""QMI's process manager and CGSE's process helpers through the Python client against a real
daemon: sequential stop-all (reverse order, each gone before the next), ShutdownResult (was it
running, pid, soft / hard / not running), stop() returning survivors, is_process_running and
friends over FindProcesses / ListZombies, and WatchStats as an iterator."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

import corral_client
from corral_client import ShutdownHow, cgse

from conftest import wait_for

ORDER_FILE = os.path.join(tempfile.mkdtemp(prefix="corral-py-order-"), "order")


def slow_to_stop(name: str) -> dict:
    # On SIGTERM: note it, take 300 ms, note the exit. The group's sleep is killed by the same TERM.
    # RUNNING once it says "ready", after its trap is set (a TERM before that would just kill it).
    script = f"trap 'echo TERM {name} >> {ORDER_FILE}; sleep 0.3; echo EXIT {name} >> {ORDER_FILE}; exit 0' TERM; echo ready; while true; do sleep 0.05; done"
    return {"command": ["/bin/sh", "-c", script], "autostart": False, "stop_timeout": "10s", "labels": {"group": "seq"},
            "readiness": {"log": "^ready$", "period": "50ms"}}


DAEMON_CONFIG = {
    "programs": {
        "seq_a": slow_to_stop("seq_a"),
        "seq_b": slow_to_stop("seq_b"),
        "seq_c": slow_to_stop("seq_c"),
        "stubborn": {"command": ["/bin/sh", "-c", "trap '' TERM; echo trapped; while true; do sleep 0.05; done"], "autostart": False, "startsecs": 0, "stop_timeout": "300ms"},
        "idle": {"command": ["sleep", "1000"], "autostart": False, "startsecs": 0},
        "marked": {"command": ["sleep", "1001"], "autostart": False, "startsecs": 0},
    },
}


def test_sequential_stop_all_stops_in_reverse_order_each_gone_before_the_next(corral):
    open(ORDER_FILE, "w").close()
    for name in ("seq_a", "seq_b", "seq_c"):
        corral.start(name)
    results = corral.stop_all(labels={"group": "seq"}, sequential=True)
    assert [r.name for r in results] == ["seq_c", "seq_b", "seq_a"]
    assert all(r.ok and r.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_SOFT") and r.shutdown.was_running for r in results)
    lines = open(ORDER_FILE).read().split()
    events = [" ".join(lines[i : i + 2]) for i in range(0, len(lines), 2)]
    assert events == ["TERM seq_c", "EXIT seq_c", "TERM seq_b", "EXIT seq_b", "TERM seq_a", "EXIT seq_a"], events


def test_stop_says_soft_hard_or_not_running_with_pid_and_survivors(corral):
    idle = corral.start("idle")
    soft = corral.stop("idle")
    assert soft.state == corral_client.ProcessState.Value("PROCESS_STATE_STOPPED")  # still reads as ProcessInfo
    assert soft.shutdown.was_running and soft.shutdown.pid == idle.run.pid
    assert soft.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_SOFT") and soft.survivors == []

    again = corral.stop("idle")
    assert not again.was_running and again.shutdown.pid == 0
    assert again.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_NOT_RUNNING")

    stubborn = corral.start("stubborn")
    # TERM before the trap is set would end it softly: wait until it says the trap is set.
    wait_for(lambda: b"trapped" in corral.read_logs("stubborn", tail_lines=5).chunk.data, 10, "stubborn to set its TERM trap")
    hard = corral.stop("stubborn")
    assert hard.shutdown.how == ShutdownHow.Value("SHUTDOWN_HOW_HARD") and hard.shutdown.pid == stubborn.run.pid
    assert hard.survivors == []


def test_cgse_helpers_find_processes_and_zombies(corral):
    run = corral.start("marked").run
    try:
        # RUNNING may come while the run's pid is still the cgroup wrapper (/bin/sh ... exec "$@"),
        # whose argv also holds "sleep 1001": wait until that pid is sleep itself.
        wait_for(lambda: [p["cmdline"] for p in cgse.get_process_info("1001", client=corral)] == [["sleep", "1001"]], 10, "the run's exec of sleep")
        assert cgse.is_process_running(["sleep", "1001"], client=corral) is True
        assert cgse.is_process_running(["sleep", "1001"], as_list=True, client=corral) == [run.pid]
        assert cgse.is_process_running(["SLEEP", "1001"], case_sensitive=True, client=corral) is False
        assert cgse.is_process_running(["sleep", "100"], contains=False, client=corral) is False
        (info,) = cgse.get_process_info("1001", client=corral)
        assert info["pid"] == run.pid and info["cmdline"] == ["sleep", "1001"] and info["program"] == "marked"
        assert info["create_time"] > 0
        assert any(p["pid"] == run.pid for p in cgse.list_processes("sleep", client=corral))
        assert isinstance(cgse.list_zombies(client=corral), list)
    finally:
        corral.stop("marked")
    wait_for(lambda: not corral.is_process_running(["sleep", "1001"]), 10, "the stopped process to be gone")


def test_watch_stats_is_an_iterator_of_ticks(corral):
    run = corral.start("marked").run
    try:
        with corral.watch_stats(programs=["marked"], pids=[os.getpid()], interval=0.1) as ticks:
            first = next(iter(ticks))
        assert [s.process.pid for s in first.samples] == [run.pid, os.getpid()]
    finally:
        corral.stop("marked")


def test_a_client_fails_a_monitored_run_and_the_first_failure_wins(corral):
    # Exits 7 on SIGINT (the kill signal), but only once the test has sent its second failure
    # (the marker file): a second failure while the run is still ending is kept as secondary.
    marker = os.path.join(tempfile.mkdtemp(prefix="corral-fail-"), "both-sent")
    script = (
        "import os, signal, sys, time\n"
        f"def on_int(*a):\n    while not os.path.exists({marker!r}): time.sleep(0.01)\n    sys.exit(7)\n"
        "signal.signal(signal.SIGINT, on_int)\nprint('up', flush=True)\nwhile True: time.sleep(0.05)"
    )
    result = None
    for item in corral.run_monitored(sys.executable, ["-c", script], kill_grace=30):
        kind = item.WhichOneof("event")
        if kind == "output" and b"up" in item.output.data:
            corral.fail_monitored(started.run_id, "sensor unplugged")
            corral.fail_monitored(started.run_id, "second opinion")
            open(marker, "w").close()
        if kind == "started":
            started = item.started
        if kind == "result":
            result = item.result
    assert result is not None
    assert result.outcome == corral_client.MonitoredOutcome.Value("MONITORED_OUTCOME_FAILED_BY_CLIENT")
    assert result.message.startswith("sensor unplugged")
    assert [f.message for f in result.secondary] == ["second opinion"]
    shutil.rmtree(os.path.dirname(marker))
