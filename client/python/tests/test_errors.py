"""Errors feel like grpcio's: CorralError is a grpc.RpcError with code(), details(),
trailing_metadata(), one subclass per code, and the daemon's typed details (google.rpc.Status
from grpc-status-details-bin); FATAL starts fail; corral_client.aio has the same API."""
from __future__ import annotations

import asyncio

import grpc
import pytest

import corral_client
from corral_client import aio
from conftest import TASK_MODULE

DAEMON_CONFIG = {
    "programs": {
        "quick": {"command": ["sh", "-c", "exit 3"], "autostart": False, "startsecs": "1s", "startretries": 1, "backoff": {"initial": "10ms"}},
        "ticker": {"command": ["sh", "-c", "while true; do echo tick; sleep 0.1; done"], "autostart": False, "startsecs": "100ms"},
        # RUNNING only after a minute: a start that waits for it outlives any short deadline.
        "slowstart": {"command": ["sleep", "1000"], "autostart": False, "startsecs": "60s"},
    },
    "tasks": {"modules": [str(TASK_MODULE)]},
}


def test_not_found_is_a_grpc_rpc_error_with_code_details_and_resource_info(corral):
    with pytest.raises(grpc.RpcError) as caught:
        corral.status("nope")
    error = caught.value
    assert isinstance(error, corral_client.NotFound) and isinstance(error, corral_client.CorralError)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert '"nope"' in error.details()
    assert error.reason == "PROGRAM_NOT_FOUND" and error.metadata == {"program": "nope"}
    assert error.error_info is not None and error.error_info.domain == corral_client.ERROR_DOMAIN
    assert error.resource_info is not None and (error.resource_info.resource_type, error.resource_info.resource_name) == ("program", "nope")
    assert any(key == "grpc-status-details-bin" for key, _ in error.trailing_metadata())


def test_a_start_that_ends_fatal_raises_failed_precondition_with_the_last_run(corral):
    with pytest.raises(corral_client.FailedPrecondition) as caught:
        corral.start("quick")
    error = caught.value
    assert error.reason == "PROGRAM_FATAL"
    assert error.metadata["exit_code"] == "3" and int(error.metadata["run_id"]) > 0
    assert error.precondition_failure is not None
    assert error.precondition_failure.violations[0].subject == "program/quick"
    results = {r.name: r for r in corral.start_all(names=["quick", "ticker"])}
    assert results["ticker"].ok
    assert not results["quick"].ok and results["quick"].code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert results["quick"].status.code == results["quick"].code
    corral.stop_all()


def test_bad_input_raises_invalid_argument_with_field_violations(corral):
    with pytest.raises(corral_client.InvalidArgument) as caught:
        corral.signal("ticker", "SIGNOPE")
    violations = caught.value.bad_request.field_violations
    assert violations[0].field == "signal" and '"SIGNOPE"' in violations[0].description
    with pytest.raises(corral_client.InvalidArgument) as config:
        corral.apply_config(text="programs:\n  a:\n    command: [sleep, '1']\n    startsecs: soon\n", dry_run=True)
    assert config.value.reason == "CONFIG_INVALID"
    [violation] = config.value.bad_request.field_violations
    assert violation.field == "programs.a.startsecs" and violation.description.startswith("<ApplyConfig text>:4:")


def test_a_lock_refusal_is_lock_refused_beneath_failed_precondition(corral, daemon):
    owner = corral.create_task("locked", "example_counter")
    with owner.lock():
        with daemon.client() as other:
            with pytest.raises(corral_client.LockRefused) as caught:
                other.task("locked").start()
            assert isinstance(caught.value, corral_client.FailedPrecondition)
            assert caught.value.reason == "TASK_LOCKED" and caught.value.task == "locked"
            assert other.force_unlock("locked") is True


def test_every_call_has_a_client_deadline(daemon):
    # The daemon answers this start only once the program is RUNNING, a minute from now, so only
    # the client's default deadline can end the call (a fast call could beat a tiny deadline).
    with corral_client.connect(daemon.address, default_deadline=0.5) as hurried:
        try:
            with pytest.raises(corral_client.DeadlineExceeded) as caught:
                hurried.start("slowstart")
            # The client's own deadline: the daemon's DEADLINE_EXCEEDED (its 60 s wait) names a reason.
            assert not caught.value.reason, caught.value.details()
        finally:
            hurried.stop("slowstart", deadline=30)


def test_helpers_for_stdin_free_calls(corral):
    assert corral.list_zombies() is not None
    corral.start("ticker")
    try:
        found = corral.find_processes(["while true; do echo tick"])
        assert corral.status("ticker").run.pid in [p.pid for p in found]
    finally:
        corral.stop("ticker")


def test_aio_has_the_same_api_with_errors_and_streams(daemon):
    async def main() -> None:
        async with aio.connect(daemon.address) as corral:
            with pytest.raises(corral_client.NotFound) as caught:
                await corral.status("nope")
            assert caught.value.reason == "PROGRAM_NOT_FOUND"
            with pytest.raises(corral_client.FailedPrecondition):
                await corral.start("quick")
            info = await corral.start("ticker")
            try:
                lines = b""
                async with corral.follow_logs("ticker", tail_lines=1) as stream:
                    async for item in stream:
                        lines += item.chunk.data
                        if lines.count(b"tick") >= 2:
                            break
                assert b"tick" in lines
                assert (await corral.status("ticker")).run.pid == info.run.pid
            finally:
                stopped = await corral.stop("ticker")
            # As the blocking Client's: a StopResult with the survivors and how the stop went.
            assert isinstance(stopped, corral_client.StopResult) and stopped.survivors == []
            assert stopped.was_running and stopped.shutdown.pid == info.run.pid

    asyncio.run(main())
