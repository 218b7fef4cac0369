"""The corral client on grpc.aio: the same method names, arguments and errors as the blocking
Client (corral_client.connect), awaited; server streams are async iterators.

    async with corral_client.aio.connect() as corral:
        info = await corral.start("web")
        async for item in corral.watch_events(programs=["web"]):
            ...
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import AsyncIterator, Awaitable, Callable, Generic, List, Mapping, Optional, Sequence, TypeVar, Union

import grpc
import grpc.aio

from ._address import resolve_address
from ._client import DEFAULT_DEADLINE, StopResult, _duration, _local_programs, _selector, _since, _target, _waited
from ._credentials import TlsOptions, read_token_file, tls_credentials
from ._connection import diagnose_connection
from ._errors import CorralError, Diagnosis, from_rpc_error
from ._values import Json, to_value
from .v1 import process_manager_pb2 as pm
from .v1 import process_manager_pb2_grpc as pm_grpc
from .v1 import process_monitor_pb2 as mon
from .v1 import process_monitor_pb2_grpc as mon_grpc
from .v1 import task_runner_pb2 as tr
from .v1 import task_runner_pb2_grpc as tr_grpc

T = TypeVar("T")

# The CorralError of a grpc.aio error (an UNAVAILABLE one probed off the event loop).
_ToError = Callable[[grpc.aio.AioRpcError, str], Awaitable[CorralError]]


async def _plain_error(error: grpc.aio.AioRpcError, method: str) -> CorralError:
    return from_rpc_error(error, method)


class AsyncStream(Generic[T]):
    """One server-streaming call on grpc.aio: `async for` yields responses; errors raise
    CorralError subclasses; after cancel() (or leaving `async with`) iteration just ends."""

    def __init__(self, call: "grpc.aio.UnaryStreamCall[object, T]", method: str, to_error: _ToError = _plain_error) -> None:
        self._call = call
        self._method = method
        self._to_error = to_error
        self._cancelled = False

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        try:
            async for item in self._call:
                yield item
        except grpc.aio.AioRpcError as error:
            if self._cancelled and error.code() == grpc.StatusCode.CANCELLED:
                return
            raise (await self._to_error(error, self._method)) from None
        except grpc.aio.UsageError:
            if not self._cancelled:
                raise

    def cancel(self) -> None:
        self._cancelled = True
        self._call.cancel()

    async def __aenter__(self) -> "AsyncStream[T]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cancel()


class AsyncClient:
    """A grpc.aio connection to one daemon. Every method takes `deadline` (seconds, client side)
    and raises a CorralError subclass on failure, like the blocking Client."""

    def __init__(
        self, address: str, channel: grpc.aio.Channel, default_deadline: Optional[float] = DEFAULT_DEADLINE, tls: Optional[TlsOptions] = None
    ) -> None:
        self.address = address
        self._tls = tls
        self.channel = channel
        self.default_deadline = default_deadline
        self._pm = pm_grpc.ProcessManagerStub(channel)
        self._tr = tr_grpc.TaskRunnerStub(channel)
        self._mon = mon_grpc.ProcessMonitorStub(channel)

    async def close(self) -> None:
        await self.channel.close(None)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _unary(self, method: str, call: "grpc.aio.UnaryUnaryMultiCallable[object, T]", request: object, deadline: Optional[float]) -> T:
        try:
            response: T = await call(request, timeout=deadline if deadline is not None else self.default_deadline)
            return response
        except grpc.aio.AioRpcError as error:
            raise (await self._error(error, method)) from None

    async def _error(self, error: grpc.aio.AioRpcError, method: str) -> CorralError:
        """The CorralError of a failed call; an UNAVAILABLE one names what the probe finds (in a thread: it blocks)."""
        found: Optional[Diagnosis] = None
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            found = await asyncio.get_running_loop().run_in_executor(None, diagnose_connection, self.address, self._tls)
        return from_rpc_error(error, method, (lambda: found) if found is not None else None)

    # --- ProcessManager -------------------------------------------------------------------
    async def list_processes(self, names: Sequence[str] = (), labels: Optional[Mapping[str, str]] = None, deadline: Optional[float] = None) -> List[pm.ProcessInfo]:
        request = pm.ListProcessesRequest(selector=_selector(names, labels))
        response: pm.ListProcessesResponse = await self._unary("corral.v1.ProcessManager/ListProcesses", self._pm.ListProcesses, request, deadline)
        return list(response.processes)

    async def status(self, name: str, deadline: Optional[float] = None) -> pm.ProcessInfo:
        response: pm.GetProcessResponse = await self._unary("corral.v1.ProcessManager/GetProcess", self._pm.GetProcess, pm.GetProcessRequest(name=name), deadline)
        return response.process

    async def start(self, name: str, wait: pm.StartWait = pm.START_WAIT_RUNNING, timeout: Optional[float] = None, deadline: Optional[float] = None) -> pm.ProcessInfo:
        request = pm.StartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StartProcessResponse = await self._unary(
            "corral.v1.ProcessManager/StartProcess", self._pm.StartProcess, request, _waited(timeout, deadline, self.default_deadline)
        )
        return response.process

    async def stop(self, name: str, wait: pm.StopWait = pm.STOP_WAIT_STOPPED, timeout: Optional[float] = None, deadline: Optional[float] = None) -> StopResult:
        """As Client.stop: a StopResult (the ProcessInfo's fields, survivors, shutdown)."""
        request = pm.StopProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StopProcessResponse = await self._unary(
            "corral.v1.ProcessManager/StopProcess", self._pm.StopProcess, request, _waited(timeout, deadline, self.default_deadline)
        )
        return StopResult(response)

    async def restart(self, name: str, wait: pm.StartWait = pm.START_WAIT_RUNNING, timeout: Optional[float] = None, deadline: Optional[float] = None) -> pm.ProcessInfo:
        request = pm.RestartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.RestartProcessResponse = await self._unary(
            "corral.v1.ProcessManager/RestartProcess", self._pm.RestartProcess, request, _waited(timeout, deadline, self.default_deadline)
        )
        return response.process

    async def signal(self, name: str, signal: str, group: bool = False, deadline: Optional[float] = None) -> pm.ProcessInfo:
        request = pm.SignalProcessRequest(name=name, signal=signal, group=group)
        response: pm.SignalProcessResponse = await self._unary("corral.v1.ProcessManager/SignalProcess", self._pm.SignalProcess, request, deadline)
        return response.process

    async def start_all(
        self, names: Sequence[str] = (), labels: Optional[Mapping[str, str]] = None, wait: pm.StartWait = pm.START_WAIT_RUNNING,
        timeout: Optional[float] = None, deadline: Optional[float] = None,
    ) -> List[pm.ProgramResult]:
        request = pm.StartAllRequest(selector=_selector(names, labels), wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StartAllResponse = await self._unary(
            "corral.v1.ProcessManager/StartAll", self._pm.StartAll, request, _waited(timeout, deadline, self.default_deadline)
        )
        return list(response.results)

    async def stop_all(
        self, names: Sequence[str] = (), labels: Optional[Mapping[str, str]] = None, wait: pm.StopWait = pm.STOP_WAIT_STOPPED,
        timeout: Optional[float] = None, deadline: Optional[float] = None, sequential: Optional[bool] = None,
    ) -> List[pm.ProgramResult]:
        request = pm.StopAllRequest(selector=_selector(names, labels), wait=wait)
        if sequential is not None:
            request.sequential = sequential
        _duration(timeout, request.timeout)
        response: pm.StopAllResponse = await self._unary(
            "corral.v1.ProcessManager/StopAll", self._pm.StopAll, request, _waited(timeout, deadline, self.default_deadline)
        )
        return list(response.results)

    async def read_logs(
        self, name: str, stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED, tail_lines: int = 0, offset: int = 0, max_bytes: int = 0,
        since: Optional[datetime] = None, deadline: Optional[float] = None, stream_name: str = "",
    ) -> pm.ReadLogsResponse:
        request = pm.ReadLogsRequest(name=name, stream=stream, tail_lines=tail_lines, offset=offset, max_bytes=max_bytes, stream_name=stream_name)
        _since(since, request)
        response: pm.ReadLogsResponse = await self._unary("corral.v1.ProcessManager/ReadLogs", self._pm.ReadLogs, request, deadline)
        return response

    async def read_all_logs(
        self, tail_lines: int = 20, streams: Sequence[pm.LogStream] = (pm.LOG_STREAM_STDOUT, pm.LOG_STREAM_STDERR),
        since: Optional[datetime] = None, deadline: Optional[float] = None,
    ) -> List[pm.LogChunk]:
        """As Client.read_all_logs: one chunk per program and stream, in config order."""
        chunks: List[pm.LogChunk] = []
        for name in _local_programs(await self.list_processes(deadline=deadline)):
            for stream in streams:
                chunks.append((await self.read_logs(name, stream=stream, tail_lines=tail_lines, since=since, deadline=deadline)).chunk)
        return chunks

    def follow_logs(
        self, name: str, stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED, tail_lines: int = 0, offset: Optional[int] = None,
        since: Optional[datetime] = None, deadline: Optional[float] = None, stream_names: Sequence[str] = (),
    ) -> AsyncStream[pm.FollowLogsResponse]:
        request = pm.FollowLogsRequest(name=name, stream=stream, tail_lines=tail_lines, stream_names=list(stream_names))
        if offset is not None:
            request.offset = offset
        _since(since, request)
        return AsyncStream(self._pm.FollowLogs(request, timeout=deadline), "corral.v1.ProcessManager/FollowLogs", self._error)

    def follow_all_logs(
        self, stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED, tail_lines: int = 0, since: Optional[datetime] = None, deadline: Optional[float] = None,
    ) -> AsyncStream[pm.FollowLogsResponse]:
        """As Client.follow_all_logs: every program's output, each chunk naming its program."""
        request = pm.FollowLogsRequest(all_programs=True, stream=stream, tail_lines=tail_lines)
        _since(since, request)
        return AsyncStream(self._pm.FollowLogs(request, timeout=deadline), "corral.v1.ProcessManager/FollowLogs", self._error)

    def watch_events(self, after_seq: int = 0, live_only: bool = False, programs: Sequence[str] = (), deadline: Optional[float] = None) -> AsyncStream[pm.WatchEventsResponse]:
        request = pm.WatchEventsRequest(after_seq=after_seq, live_only=live_only, programs=list(programs))
        return AsyncStream(self._pm.WatchEvents(request, timeout=deadline), "corral.v1.ProcessManager/WatchEvents", self._error)

    async def server_info(self, deadline: Optional[float] = None) -> pm.GetServerInfoResponse:
        response: pm.GetServerInfoResponse = await self._unary("corral.v1.ProcessManager/GetServerInfo", self._pm.GetServerInfo, pm.GetServerInfoRequest(), deadline)
        return response

    async def write_stdin(self, name: str, data: bytes, deadline: Optional[float] = None) -> int:
        request = pm.WriteStdinRequest(name=name, data=data)
        response: pm.WriteStdinResponse = await self._unary("corral.v1.ProcessManager/WriteStdin", self._pm.WriteStdin, request, deadline)
        return response.bytes_written

    async def close_stdin(self, name: str, deadline: Optional[float] = None) -> None:
        await self._unary("corral.v1.ProcessManager/CloseStdin", self._pm.CloseStdin, pm.CloseStdinRequest(name=name), deadline)

    async def apply_config(
        self, text: Optional[str] = None, path: Optional[str] = None, dry_run: bool = False, allow_empty: bool = False, deadline: Optional[float] = None,
    ) -> pm.ConfigDiff:
        if (text is None) == (path is None):
            raise ValueError("apply_config needs exactly one of text= or path=")
        request = pm.ApplyConfigRequest(text=text) if text is not None else pm.ApplyConfigRequest(path=path)
        request.dry_run = dry_run
        request.allow_empty = allow_empty
        response: pm.ApplyConfigResponse = await self._unary("corral.v1.ProcessManager/ApplyConfig", self._pm.ApplyConfig, request, deadline)
        return response.diff

    # --- ProcessMonitor -------------------------------------------------------------------
    async def stats(self, program: Optional[str] = None, pid: Optional[int] = None, include_children: bool = False, interval: Optional[float] = None, deadline: Optional[float] = None) -> mon.StatsSample:
        request = mon.GetStatsRequest(target=_target(program, pid), include_children=include_children)
        _duration(interval, request.interval)
        response: mon.GetStatsResponse = await self._unary(
            "corral.v1.ProcessMonitor/GetStats", self._mon.GetStats, request, _waited(interval, deadline, self.default_deadline)
        )
        return response.sample

    def watch_stats(
        self, programs: Sequence[str] = (), pids: Sequence[int] = (), interval: Optional[float] = None, include_children: bool = False, deadline: Optional[float] = None
    ) -> AsyncStream[mon.WatchStatsResponse]:
        targets = [mon.StatsTarget(program=p) for p in programs] + [mon.StatsTarget(pid=p) for p in pids]
        request = mon.WatchStatsRequest(targets=targets, include_children=include_children)
        _duration(interval, request.interval)
        return AsyncStream(self._mon.WatchStats(request, timeout=deadline), "corral.v1.ProcessMonitor/WatchStats", self._error)

    async def find_processes(self, items: Sequence[str], contains: bool = True, case_sensitive: bool = False, deadline: Optional[float] = None) -> List[mon.ProcessEntry]:
        request = mon.FindProcessesRequest(items=list(items), contains=contains, case_sensitive=case_sensitive)
        response: mon.FindProcessesResponse = await self._unary("corral.v1.ProcessMonitor/FindProcesses", self._mon.FindProcesses, request, deadline)
        return list(response.processes)

    # --- TaskRunner -----------------------------------------------------------------------
    async def tasks(self, deadline: Optional[float] = None) -> List[tr.TaskInfo]:
        response: tr.ListTasksResponse = await self._unary("corral.v1.TaskRunner/ListTasks", self._tr.ListTasks, tr.ListTasksRequest(), deadline)
        return list(response.tasks)

    async def create_task(self, name: str, type: str, args: Json = None, settings: Json = None, deadline: Optional[float] = None) -> tr.TaskInfo:
        request = tr.CreateTaskRequest(name=name, type=type)
        if args is not None:
            request.args.CopyFrom(to_value(args))
        if settings is not None:
            request.settings.CopyFrom(to_value(settings))
        response: tr.CreateTaskResponse = await self._unary("corral.v1.TaskRunner/CreateTask", self._tr.CreateTask, request, deadline)
        return response.task

    def watch_signals(self, tasks: Sequence[str] = (), names: Sequence[str] = (), after_seq: int = 0, live_only: bool = False, deadline: Optional[float] = None) -> AsyncStream[tr.WatchSignalsResponse]:
        request = tr.WatchSignalsRequest(tasks=list(tasks), names=list(names), after_seq=after_seq, live_only=live_only)
        return AsyncStream(self._tr.WatchSignals(request, timeout=deadline), "corral.v1.TaskRunner/WatchSignals", self._error)


def connect(
    address: Optional[str] = None,
    options: Optional[Mapping[str, Union[str, int]]] = None,
    *,
    tls: Optional[TlsOptions] = None,
    token: Optional[str] = None,
    token_file: Optional[str] = None,
    default_deadline: Optional[float] = DEFAULT_DEADLINE,
) -> AsyncClient:
    """Like corral_client.connect, on grpc.aio (call it inside a running event loop)."""
    target = resolve_address(address)
    channel_options = list((options or {}).items())
    if token is None and token_file is not None:
        token = read_token_file(token_file)
    if tls is not None:
        if target.startswith("unix:"):
            raise ValueError(f"TLS is for TCP addresses, not the Unix socket {target}")
        credentials, extra = tls_credentials(tls, token)
        channel = grpc.aio.secure_channel(target, credentials, options=channel_options + extra)
    else:
        if token is not None:
            raise ValueError("a bearer token needs TLS on grpc.aio (grpc refuses call credentials on plain channels)")
        channel = grpc.aio.insecure_channel(target, options=channel_options)
    return AsyncClient(target, channel, default_deadline, tls)
