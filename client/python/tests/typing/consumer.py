"""A consumer of corral_client as an application would write it; `mypy --strict` must pass on
it (tests/test_typing.py runs that), so the public API is typed end to end (no Any)."""
from __future__ import annotations

import asyncio
from typing import List, Optional

import grpc

import corral_client
from corral_client import aio
from corral_client.v1 import process_manager_pb2 as pm
from google.rpc import error_details_pb2


def fatal_reason(corral: corral_client.Client, name: str) -> Optional[str]:
    try:
        info: pm.ProcessInfo = corral.start(name, timeout=5.0)
        pid: int = info.run.pid
        print(pid)
        return None
    except corral_client.FailedPrecondition as error:
        code: grpc.StatusCode = error.code()
        details: str = error.details()
        violations: List[error_details_pb2.PreconditionFailure.Violation] = (
            list(error.precondition_failure.violations) if error.precondition_failure is not None else []
        )
        print(code, details, violations, error.metadata.get("exit_code", ""))
        return error.reason


def bad_fields(corral: corral_client.Client) -> List[str]:
    try:
        corral.apply_config(text="programs: {a: {startsecs: soon}}", dry_run=True)
    except corral_client.InvalidArgument as error:
        assert error.bad_request is not None
        return [f"{v.field}: {v.description}" for v in error.bad_request.field_violations]
    except grpc.RpcError as error:  # every CorralError is one
        print(error)
    return []


def everything(corral: corral_client.Client) -> None:
    results: List[pm.ProgramResult] = corral.start_all(labels={"tier": "web"})
    for result in corral.stop_all():
        print(result.name, result.ok, result.status.code)
    print(results, corral.list_processes(), corral.server_info().version)
    written: int = corral.write_stdin("repl", b"1+1\n")
    corral.close_stdin("repl")
    corral.signal("web", "SIGHUP", group=True)
    print(written, corral.find_processes(["sleep"]), corral.list_zombies(), corral.stats(program="web").process.pid)
    with corral.follow_logs("web", tail_lines=10) as stream:
        for item in stream:
            data: bytes = item.chunk.data
            print(data)
            break
    task = corral.create_task("cal", "counter", settings={"step": 2})
    with task.lock(timeout=1.0):
        task.set_settings({"step": 3})
    print(corral.force_unlock("cal"))


async def asynchronous(address: str) -> None:
    async with aio.connect(address) as corral:
        info: pm.ProcessInfo = await corral.status("web")
        print(info.state)
        async with corral.watch_events(programs=["web"]) as events:
            async for item in events:
                print(item.event.seq)
                break


if __name__ == "__main__":
    asyncio.run(asynchronous("unix:///tmp/nowhere.sock"))
