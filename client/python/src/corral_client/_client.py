"""connect() and the Client: typed methods for the common calls, error-converting raw stubs
for all of them (client.process_manager, client.task_runner, client.process_monitor)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, TypeVar

import grpc

from ._address import resolve_address
from ._credentials import BearerToken, TlsOptions, read_token_file, tls_channel
from ._errors import from_rpc_error
from ._stream import Stream
from ._tasks import TaskHandle
from ._values import Json, to_value
from .v1 import process_manager_pb2 as pm
from .v1 import process_manager_pb2_grpc as pm_grpc
from .v1 import process_monitor_pb2 as mon
from .v1 import process_monitor_pb2_grpc as mon_grpc
from .v1 import task_runner_pb2 as tr
from .v1 import task_runner_pb2_grpc as tr_grpc

T = TypeVar("T")


def _duration(seconds: Optional[float], into: Any) -> None:
    if seconds is not None:
        into.FromNanoseconds(int(seconds * 1e9))


class _Stub:
    """A generated stub whose unary calls raise CorralError and whose server streams are
    Stream iterators. Call as stub.GetProcess(request, timeout=seconds)."""

    def __init__(self, stub: Any, service: str) -> None:
        self._stub = stub
        self._service = service

    def __getattr__(self, method: str) -> Callable[..., Any]:
        callable_ = getattr(self._stub, method)
        full = f"{self._service}/{method}"
        if isinstance(callable_, grpc.UnaryStreamMultiCallable):
            return lambda request, **kw: Stream(callable_(request, **kw), full)

        def unary(request: Any, **kw: Any) -> Any:
            try:
                return callable_(request, **kw)
            except grpc.RpcError as error:
                raise from_rpc_error(error, full) from None

        return unary


class Client:
    """A connection to one daemon. Close it (or use `with`) when done."""

    def __init__(self, address: str, channel: grpc.Channel) -> None:
        self.address = address
        self.channel = channel
        self.process_manager = _Stub(pm_grpc.ProcessManagerStub(channel), "corral.v1.ProcessManager")
        self.task_runner = _Stub(tr_grpc.TaskRunnerStub(channel), "corral.v1.TaskRunner")
        self.process_monitor = _Stub(mon_grpc.ProcessMonitorStub(channel), "corral.v1.ProcessMonitor")

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ProcessManager -------------------------------------------------------------------
    def list_processes(self, names: Sequence[str] = (), labels: Optional[Mapping[str, str]] = None) -> list:
        selector = pm.LabelSelector(names=list(names), match_labels=dict(labels or {}))
        return list(self.process_manager.ListProcesses(pm.ListProcessesRequest(selector=selector)).processes)

    def status(self, name: str, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """GetProcess: the program's state, its current (or last) run, its spec."""
        return self.process_manager.GetProcess(pm.GetProcessRequest(name=name), timeout=deadline).process

    def start(self, name: str, wait: int = pm.START_WAIT_RUNNING, timeout: Optional[float] = None) -> pm.ProcessInfo:
        """Starts a program and waits (by default) until it is RUNNING."""
        request = pm.StartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        return self.process_manager.StartProcess(request).process

    def stop(self, name: str, wait: int = pm.STOP_WAIT_STOPPED, timeout: Optional[float] = None) -> "StopResult":
        """Two-stage stop of the program's process group; waits until it is gone by default.
        Returns a StopResult: the ProcessInfo's fields (result.state, result.run...), plus
        `survivors` (pids alive after SIGKILL, as CGSE's quit() counts them) and `shutdown`
        (was_running, pid, how: SOFT, HARD, SURVIVORS or NOT_RUNNING)."""
        request = pm.StopProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        return StopResult(self.process_manager.StopProcess(request))

    def stop_all(
        self,
        names: Sequence[str] = (),
        labels: Optional[Mapping[str, str]] = None,
        sequential: Optional[bool] = None,
        wait: int = pm.STOP_WAIT_STOPPED,
        timeout: Optional[float] = None,
    ) -> list:
        """Stops the selected programs (all when none are named), dependents first. sequential:
        one at a time in reverse order, each gone before the next (None: the daemon's
        server.stop_order). Returns one ProgramResult per program (its `shutdown` says how)."""
        request = pm.StopAllRequest(selector=pm.LabelSelector(names=list(names), match_labels=dict(labels or {})), wait=wait)
        if sequential is not None:
            request.sequential = sequential
        _duration(timeout, request.timeout)
        return list(self.process_manager.StopAll(request).results)

    def restart(self, name: str, wait: int = pm.START_WAIT_RUNNING, timeout: Optional[float] = None) -> pm.ProcessInfo:
        """Stops the program if it runs, then starts it (a stopped one is just started)."""
        request = pm.RestartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        return self.process_manager.RestartProcess(request).process

    def read_logs(self, name: str, stream: int = pm.LOG_STREAM_STDOUT, tail_lines: int = 0, offset: int = 0, max_bytes: int = 0) -> pm.ReadLogsResponse:
        request = pm.ReadLogsRequest(name=name, stream=stream, tail_lines=tail_lines, offset=offset, max_bytes=max_bytes)
        return self.process_manager.ReadLogs(request)

    def follow_logs(self, name: str, stream: int = pm.LOG_STREAM_UNSPECIFIED, tail_lines: int = 0, offset: Optional[int] = None) -> Stream[pm.FollowLogsResponse]:
        """New output as it is written (both streams unless one is named), until cancelled."""
        request = pm.FollowLogsRequest(name=name, stream=stream, tail_lines=tail_lines)
        if offset is not None:
            request.offset = offset
        return self.process_manager.FollowLogs(request)

    def watch_events(self, after_seq: int = 0, live_only: bool = False, programs: Sequence[str] = ()) -> Stream[pm.WatchEventsResponse]:
        """Journaled events after after_seq, then live ones; a `gap` says some were lost."""
        request = pm.WatchEventsRequest(after_seq=after_seq, live_only=live_only, programs=list(programs))
        return self.process_manager.WatchEvents(request)

    def server_info(self) -> pm.GetServerInfoResponse:
        return self.process_manager.GetServerInfo(pm.GetServerInfoRequest())

    # --- ProcessMonitor -------------------------------------------------------------------
    def watch_stats(
        self, programs: Sequence[str] = (), pids: Sequence[int] = (), interval: Optional[float] = None, include_children: bool = False
    ) -> Stream[mon.WatchStatsResponse]:
        """Samples of programs and pids every `interval` seconds (gaffer's monitor(listener)),
        as an iterator of ticks (one sample per target, in order) until closed."""
        targets = [mon.StatsTarget(program=p) for p in programs] + [mon.StatsTarget(pid=p) for p in pids]
        request = mon.WatchStatsRequest(targets=targets, include_children=include_children)
        _duration(interval, request.interval)
        return self.process_monitor.WatchStats(request)

    def find_processes(self, items: Sequence[str] | str, contains: bool = True, case_sensitive: bool = False) -> list:
        """The host's processes whose command line matches every item (FindProcesses)."""
        items = [items] if isinstance(items, str) else list(items)
        return list(self.process_monitor.FindProcesses(mon.FindProcessesRequest(items=items, contains=contains, case_sensitive=case_sensitive)).processes)

    def is_process_running(self, items: Sequence[str] | str, contains: bool = True, case_sensitive: bool = False, as_list: bool = False):
        """CGSE's is_process_running: whether a process matching every item runs; with
        as_list, the list of their pids instead."""
        pids = [p.pid for p in self.find_processes(items, contains, case_sensitive)]
        return pids if as_list else len(pids) > 0

    def get_process_info(self, items: Sequence[str] | str, contains: bool = True, case_sensitive: bool = False) -> list:
        """CGSE's get_process_info: one dict per matching process (pid, ppid, name, cmdline,
        state, uid, create_time in epoch seconds, and program when corral manages it)."""
        return [_process_dict(p) for p in self.find_processes(items, contains, case_sensitive)]

    def list_host_processes(self, items: Sequence[str] | str, contains: bool = True, case_sensitive: bool = False) -> list:
        """CGSE's list_processes (named so beside list_processes, which lists programs): the
        host's processes matching the items, as dicts. Unlike CGSE, items are required (the
        daemon's FindProcesses matches at least one item; it does not list the whole host)."""
        return self.get_process_info(items, contains, case_sensitive)

    def list_zombies(self) -> list:
        """CGSE's list_zombies: one dict per zombie (pid, ppid, name, cmdline, program,
        parent_is_daemon)."""
        zombies = self.process_monitor.ListZombies(mon.ListZombiesRequest()).zombies
        return [
            {"pid": z.pid, "ppid": z.ppid, "name": z.name, "cmdline": list(z.cmdline), "program": z.program, "parent_is_daemon": z.parent_is_daemon}
            for z in zombies
        ]

    def stats(self, program: Optional[str] = None, pid: Optional[int] = None, include_children: bool = False, interval: Optional[float] = None) -> mon.StatsSample:
        """One sample of a program's current run (or any pid); with `interval` (seconds) the
        daemon samples twice so that cpu_percent is known."""
        target = mon.StatsTarget(program=program) if program is not None else mon.StatsTarget(pid=pid or 0)
        request = mon.GetStatsRequest(target=target, include_children=include_children)
        _duration(interval, request.interval)
        return self.process_monitor.GetStats(request).sample

    def run_monitored(
        self,
        command: str,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        cwd: str = "",
        inactivity_timeout: Optional[float] = None,
        total_timeout: Optional[float] = None,
        kill_signal: str = "",
        kill_grace: Optional[float] = None,
        progress_pattern: str = "",
    ) -> Stream[mon.RunMonitoredResponse]:
        """Runs a command under watch: started, output, progress, then one result (last)."""
        request = mon.RunMonitoredRequest(command=command, args=list(args), env=dict(env or {}), cwd=cwd, kill_signal=kill_signal, progress_pattern=progress_pattern)
        _duration(inactivity_timeout, request.inactivity_timeout)
        _duration(total_timeout, request.total_timeout)
        _duration(kill_grace, request.kill_grace)
        return self.process_monitor.RunMonitored(request)

    def report_progress(self, run_id: int, message: str = "") -> None:
        """Progress of a monitored run (resets its inactivity timeout)."""
        self.process_monitor.ReportProgress(mon.ReportProgressRequest(run_id=run_id, message=message))

    def fail_monitored(self, run_id: int, reason: str) -> None:
        """Fails a monitored run with a reason (Launchpad's unexpectedError): SIGINT to its
        group, SIGKILL after the grace; the result is FAILED_BY_CLIENT with this reason unless
        another failure came first."""
        if not reason:
            raise ValueError("fail_monitored needs a non-empty reason")
        self.process_monitor.ReportProgress(mon.ReportProgressRequest(run_id=run_id, fail_reason=reason))

    # --- TaskRunner -----------------------------------------------------------------------
    def task_types(self) -> list:
        return list(self.task_runner.ListTaskTypes(tr.ListTaskTypesRequest()).types)

    def tasks(self) -> list:
        return list(self.task_runner.ListTasks(tr.ListTasksRequest()).tasks)

    def task(self, name: str, token: str = "") -> TaskHandle:
        """A handle on an existing task (no call is made)."""
        return TaskHandle(self, name, token)

    def create_task(self, name: str, type: str, args: Json = None, settings: Json = None) -> TaskHandle:
        request = tr.CreateTaskRequest(name=name, type=type)
        if args is not None:
            request.args.CopyFrom(to_value(args))
        if settings is not None:
            request.settings.CopyFrom(to_value(settings))
        self.task_runner.CreateTask(request)
        return TaskHandle(self, name)

    def watch_signals(self, tasks: Sequence[str] = (), names: Sequence[str] = (), after_seq: int = 0, live_only: bool = False) -> Stream[tr.WatchSignalsResponse]:
        request = tr.WatchSignalsRequest(tasks=list(tasks), names=list(names), after_seq=after_seq, live_only=live_only)
        return self.task_runner.WatchSignals(request)


class StopResult:
    """A stop's answer: reads as the stopped program's ProcessInfo (result.state), and has
    `process`, `survivors` (list of pids alive after SIGKILL) and `shutdown` (ShutdownResult)."""

    def __init__(self, response: pm.StopProcessResponse) -> None:
        self.process = response.process
        self.survivors = list(response.survivors)
        self.shutdown = response.shutdown

    @property
    def was_running(self) -> bool:
        return self.shutdown.was_running

    def __getattr__(self, name: str) -> Any:
        return getattr(self.process, name)

    def __repr__(self) -> str:
        return f"StopResult({self.process.name!r}, how={pm.ShutdownHow.Name(self.shutdown.how)}, survivors={self.survivors})"


def _process_dict(p: mon.ProcessEntry) -> dict:
    return {
        "pid": p.pid,
        "ppid": p.ppid,
        "name": p.name,
        "cmdline": list(p.cmdline),
        "state": p.state,
        "uid": p.uid,
        "create_time": p.create_time.seconds + p.create_time.nanos / 1e9 if p.HasField("create_time") else None,
        "program": p.program,
        "run_id": p.run_id,
    }


def connect(
    address: Optional[str] = None,
    options: Optional[Dict[str, Any]] = None,
    *,
    tls: Optional[TlsOptions] = None,
    token: Optional[str] = None,
    token_file: Optional[str] = None,
) -> Client:
    """Connects to a corral daemon (lazily: errors surface on the first call). `address`:
    see resolve_address; default $CORRAL_ADDRESS, then $CORRAL_HOME/corral.sock or
    ~/.corral/corral.sock. `options`: extra grpc channel options. `tls`: connect over TLS (TCP
    addresses only) with these PEM files. `token` (or the first line of `token_file`): sent as
    `authorization: Bearer <token>` with every call."""
    target = resolve_address(address)
    channel_options = list((options or {}).items())
    if tls is not None:
        if target.startswith("unix:"):
            raise ValueError(f"TLS is for TCP addresses, not the Unix socket {target}")
        channel = tls_channel(target, tls, channel_options)
    else:
        channel = grpc.insecure_channel(target, options=channel_options)
    if token is None and token_file is not None:
        token = read_token_file(token_file)
    if token is not None:
        channel = grpc.intercept_channel(channel, BearerToken(token))
    return Client(target, channel)
