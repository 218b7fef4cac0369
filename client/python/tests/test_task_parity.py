"""QMI parity of tasks through the Python client against a real daemon: the SKIP grid of
QMI_LoopTask, TERMINATE's outcome reason and signal, join() raising TaskFailed, lock and start
answers a QMI user tests for, force_unlock, and custom methods over pending settings (a TS type
and an exec task in Python)."""
from __future__ import annotations

import threading

import grpc
import pytest

import corral_client
from corral_client import CorralError, TaskFailed, TaskState

from conftest import REPO, wait_for

FIXTURES = REPO / "dist" / "test" / "fixtures" / "tasks.js"
EXEC_METHODS = REPO / "test" / "fixtures" / "exec_methods.py"


DAEMON_CONFIG = {"programs": {}, "tasks": {"modules": [str(FIXTURES)]}}  # read by conftest.py's daemon fixture


def test_skip_follows_qmi_grid_0_400_800_1800_2000_2400(corral):
    task = corral.create_task("py-grid-skip", "grid_loop", args={"period_ms": 400, "policy": "SKIP", "slow": [2], "slow_ms": 1000})
    try:
        task.start()
        wait_for(lambda: len((task.status() or {}).get("starts", [])) >= 6, 30, "6 iterations")
        task.stop()
        task.join(timeout=10)
        starts = task.status()["starts"]
        # The 400 ms slot each iteration started in (5 ms early at most): late starts on a loaded
        # machine stay in their slot; waiting for the slot at 2000 after the overrun would not.
        assert [int((t + 5) // 400) for t in starts[:6]] == [0, 1, 2, 4, 5, 6], starts
        assert starts[3] >= starts[2] + 1000, starts
    finally:
        task.remove()


def test_terminate_ends_with_reason_missed_loop_and_a_signal(corral):
    task = corral.create_task("py-grid-term", "grid_loop", args={"period_ms": 300, "policy": "TERMINATE", "slow": [1], "slow_ms": 500})
    try:
        with task.watch(names=["missed_loop"]) as signals:
            task.start()
            outcome = task.join(timeout=20)
            first = next(iter(signals))
        assert outcome.state == TaskState.Value("TASK_STATE_COMPLETED")
        assert outcome.outcome_reason == "missed_loop"
        payload = corral_client.from_value(first.signal.payload)
        assert payload["terminate"] is True and payload["policy"] == "TERMINATE" and payload["late_ms"] > 0
    finally:
        task.remove()


def test_join_raises_task_failed_with_message_and_stack(corral):
    task = corral.create_task("py-fails", "failing", args={"after_ms": 10})
    try:
        task.start()
        with pytest.raises(TaskFailed) as failed:
            task.join(timeout=10)
        assert failed.value.task_message == "calibration diverged"
        assert "calibration diverged" in failed.value.task_stack and "at " in failed.value.task_stack
        assert failed.value.task.state == TaskState.Value("TASK_STATE_FAILED")
        assert task.outcome(timeout=5).error.message == "calibration diverged"
    finally:
        task.remove()


def test_second_start_and_non_holder_unlock_answer_testably(daemon, corral):
    task = corral.create_task("py-once", "quick")
    try:
        assert task.try_start() is True
        task.join(timeout=10)
        assert task.try_start() is False
        with pytest.raises(CorralError) as refused:
            task.start()
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert refused.value.reason == "TASK_ALREADY_STARTED"

        assert task.try_lock()
        with daemon.client() as other_client:
            other = other_client.task("py-once", token="not-the-token")
            assert other.unlock() is False
            assert other.unlock_outcome() == "not_holder"
            with pytest.raises(CorralError) as locked:
                other.stop()
            assert locked.value.reason == "TASK_LOCKED"
            assert other_client.task("py-once").force_unlock() is True
        assert task.is_locked() is False
        assert task.unlock_outcome() == "not_locked"
    finally:
        task.force_unlock()
        task.remove()


def test_custom_method_reads_pending_settings_and_sets_one_field(corral):
    task = corral.create_task("py-tuner", "tuner")
    try:
        task.start()
        task.set_settings({"param": 1, "other": "from client"})
        assert task.call("set_param", 7) == {"param": 7, "other": "from client"}
        assert task.pending_settings() == {"param": 7, "other": "from client"}
        assert task.settings() == {"param": 0, "other": "keep"}
        # Many concurrent set_param calls: each is one atomic read-modify-write, none is lost to
        # another's stale read, and "other" survives all of them.
        threads = [threading.Thread(target=task.call, args=("set_param", n)) for n in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert task.pending_settings()["other"] == "from client"
        with pytest.raises(CorralError) as bad:
            task.call("set_param", "seven")
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "settings.param" in bad.value.details()
    finally:
        task.remove(timeout=10)


def test_exec_task_in_python_declares_methods_and_keeps_settings_pending(corral):
    task = corral.create_task(
        "py-exec-methods", "exec", args={"command": ["python3", str(EXEC_METHODS)], "methods": ["set_param", "take"], "hold_settings": True}
    )
    try:
        task.start()
        wait_for(lambda: (task.status() or {}).get("settings", "unset") != "unset", 10, "the child's start")
        task.set_settings({"param": 1, "other": "x"})
        assert task.pending_settings() == {"param": 1, "other": "x"}
        assert task.settings() is None
        assert task.call("set_param", 5) == {"param": 5, "other": "x"}
        assert task.pending_settings() == {"param": 5, "other": "x"}
        assert task.call("take") == "asked"
        wait_for(lambda: task.settings() == {"param": 5, "other": "x"}, 10, "the child to take the settings")
        assert task.pending_settings() is None
        with pytest.raises(CorralError) as unknown:
            task.call("nope")
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        task.remove(timeout=10)
