"""The Python client against a real daemon: processes, logs, events, tasks, locks, signals,
stats and monitored runs, through corral_client's public API."""
from __future__ import annotations

import os
import sys
import threading
import time

import grpc
import pytest

import corral_client
from corral_client import CorralError, LockRefused, ProcessState, TaskState
from conftest import wait_for

RUNNING = ProcessState.Value("PROCESS_STATE_RUNNING")
STOPPED = ProcessState.Value("PROCESS_STATE_STOPPED")


def test_address_rules_match_the_cli(monkeypatch):
    monkeypatch.delenv("CORRAL_ADDRESS", raising=False)
    monkeypatch.setenv("CORRAL_HOME", "/srv/corral")
    assert corral_client.resolve_address() == "unix:///srv/corral/corral.sock"
    monkeypatch.delenv("CORRAL_HOME")
    assert corral_client.resolve_address() == "unix://" + os.path.expanduser("~/.corral/corral.sock")
    monkeypatch.setenv("CORRAL_ADDRESS", "127.0.0.1:7070")
    assert corral_client.resolve_address() == "127.0.0.1:7070"
    assert corral_client.resolve_address("/tmp/d.sock") == "unix:///tmp/d.sock"
    assert corral_client.resolve_address("unix:///tmp/d.sock") == "unix:///tmp/d.sock"
    assert corral_client.resolve_address("./d.sock") == "unix://" + os.path.abspath("d.sock")


def test_connect_uses_corral_address_from_the_environment(daemon, monkeypatch):
    monkeypatch.setenv("CORRAL_ADDRESS", daemon.socket)
    with corral_client.connect() as corral:
        assert corral.server_info().pid == daemon.process.pid


def test_start_status_stop(corral):
    started = corral.start("ticker")
    assert started.state == RUNNING and started.run.pid > 0
    status = corral.status("ticker")
    assert status.state == RUNNING and status.run.pid == started.run.pid
    stopped = corral.stop("ticker")
    assert stopped.state == STOPPED
    assert not os.path.exists(f"/proc/{started.run.pid}") or open(f"/proc/{started.run.pid}/stat").read().split(") ")[1][0] == "Z"


def test_unknown_program_raises_not_found_with_the_grpc_code(corral):
    with pytest.raises(CorralError) as caught:
        corral.status("no-such-program")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-program" in caught.value.details()


def test_follow_logs_streams_new_lines_as_an_iterator(corral):
    corral.start("ticker")
    try:
        lines = []
        with corral.follow_logs("ticker", stream=corral_client.LogStream.Value("LOG_STREAM_STDOUT")) as logs:
            for response in logs:
                lines += response.chunk.data.decode().splitlines()
                if len([l for l in lines if l.startswith("tick ")]) >= 5:
                    break
        numbers = [int(l.split()[1]) for l in lines if l.startswith("tick ")]
        assert numbers == sorted(numbers) and len(numbers) >= 5
        assert corral.read_logs("ticker", tail_lines=1).chunk.data.startswith(b"tick ")
    finally:
        corral.stop("ticker")


def test_watch_events_sees_a_start_before_its_exit(corral):
    run_id = corral.start("sleeper").run.run_id
    corral.stop("sleeper")
    seen, last_seq = [], 0
    # From the start of the journal: this run's start must come before its exit.
    with corral.watch_events(programs=["sleeper"]) as events:
        for item in events:
            assert not item.HasField("gap")
            assert item.event.seq > last_seq
            last_seq = item.event.seq
            if item.event.run_id == run_id:
                seen.append(item.event.WhichOneof("detail"))
            if seen and seen[-1] == "process_exited":
                break
    assert seen.index("process_started") < seen.index("process_exited")


def test_a_task_is_created_steered_with_settings_and_joined(corral):
    task = corral.create_task("py-counter", "example_counter", settings={"step": 5})
    try:
        assert task.settings() == {"step": 5}
        task.start()
        wait_for(lambda: (task.status() or {}).get("count", 0) >= 5, 10, "the first count")
        task.set_settings({"step": 100})
        wait_for(lambda: task.settings() == {"step": 100}, 10, "the new settings to be applied")
        wait_for(lambda: task.status()["count"] >= 105, 10, "a count with the new step")
        with pytest.raises(CorralError) as bad:
            task.set_settings({"step": -1})
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "step" in bad.value.details()
        task.stop()
        assert task.join(timeout=10).state == TaskState.Value("TASK_STATE_STOPPED")
    finally:
        task.remove()


def test_a_lock_from_one_client_refuses_the_other(daemon, corral):
    corral.create_task("py-locked", "example_counter")
    with daemon.client() as other_client:
        other = other_client.task("py-locked")
        with corral.task("py-locked").lock() as owner:
            assert owner.token
            with pytest.raises(LockRefused):
                other.lock()
            with pytest.raises(CorralError) as refused:
                other.start()
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert other.is_locked()  # reads stay open
            owner.start()  # the owner's token goes with every call
        assert not other.is_locked()
        other.stop()
        other.join(timeout=10)
        other.remove()


def test_signals_stream_as_an_iterator(corral):
    task = corral.create_task("py-signals", "example_counter")
    try:
        ticks = []
        with task.watch(names=["tick", "started"], live_only=False) as signals:
            task.start()
            for item in signals:
                assert item.WhichOneof("kind") == "signal"
                if item.signal.name == "tick":
                    ticks.append((item.signal.seq, corral_client.from_value(item.signal.payload)))
                if len(ticks) >= 2:
                    break
        assert ticks[0][0] < ticks[1][0]
        assert ticks[0][1] == 1 and ticks[1][1] == 2
        task.stop()
        task.join(timeout=10)
    finally:
        task.remove()


def test_stats_of_a_running_program(corral):
    run = corral.start("sleeper").run
    try:
        sample = corral.stats(program="sleeper", interval=0.2)
        assert sample.process.pid == run.pid
        assert sample.process.name == "sleep"
        assert sample.process.rss_bytes > 0
        assert sample.process.HasField("cpu_percent")
    finally:
        corral.stop("sleeper")


def test_a_monitored_run_without_progress_times_out(corral):
    script = "import time\nwhile True:\n    print('working', flush=True)\n    time.sleep(0.1)\n"
    outputs, result = [], None
    for item in corral.run_monitored(sys.executable, ["-c", script], inactivity_timeout=0.7, kill_grace=2):
        kind = item.WhichOneof("event")
        if kind == "output":
            outputs.append(item.output.data)
        if kind == "result":
            result = item.result
    assert result is not None and outputs
    assert result.outcome == corral_client.MonitoredOutcome.Value("MONITORED_OUTCOME_TIMED_OUT")
    assert result.timeout == corral_client.TimeoutKind.Value("TIMEOUT_KIND_INACTIVITY")


def test_a_cancelled_stream_ends_iteration_without_an_error(corral):
    stream = corral.watch_events(live_only=True)
    threading.Timer(0.3, stream.cancel).start()
    started = time.monotonic()
    assert list(stream) == []
    assert time.monotonic() - started < 10
