"""connect() and the Client: typed methods for the common calls, error-converting raw stubs
for all of them (client.process_manager, client.task_runner, client.process_monitor)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

import grpc
from google.protobuf import duration_pb2
from google.protobuf.message import Message

from ._address import resolve_address
from ._credentials import BearerToken, TlsOptions, read_token_file, tls_channel
from ._connection import diagnose_connection
from ._errors import Diagnose, from_rpc_error
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
# One process as CGSE's helpers describe it (get_process_info: pid, ppid, name, cmdline, state,
# uid, create_time, program, run_id; list_host_processes: pid, status, cmdline).
ProcessDict = Dict[str, Any]


def _duration(seconds: Optional[float], into: "duration_pb2.Duration") -> None:
    if seconds is not None:
        into.FromNanoseconds(int(seconds * 1e9))


def _since(since: Optional[datetime], request: Union[pm.ReadLogsRequest, pm.FollowLogsRequest]) -> None:
    """ReadLogs/FollowLogs `since`: the first byte written at or after this time (aware or UTC)."""
    if since is not None:
        request.since.FromDatetime(since if since.tzinfo is None else since.astimezone(timezone.utc).replace(tzinfo=None))


def _local_programs(processes: Sequence[pm.ProcessInfo]) -> List[str]:
    """The programs whose output is on this daemon (another host's are that host's to read)."""
    return [p.name for p in processes if not p.remote]


# Every unary call gets a client-side deadline: this many seconds unless the call says otherwise
# (calls that wait on the daemon, like start/stop/join/lock, add their wait to it).
DEFAULT_DEADLINE = 30.0


class _Stub:
    """A generated stub whose unary calls raise CorralError (a grpc.RpcError subclass) and
    whose server streams are Stream iterators. Call as stub.GetProcess(request, timeout=seconds);
    unary calls get the client's default deadline when no timeout is given."""

    def __init__(self, stub: object, service: str, default_deadline: Optional[float], diagnose: Optional[Diagnose] = None) -> None:
        self._stub = stub
        self._service = service
        self._default_deadline = default_deadline
        self._diagnose = diagnose

    def __getattr__(self, method: str) -> Callable[..., Any]:
        callable_ = getattr(self._stub, method)
        full = f"{self._service}/{method}"
        if isinstance(callable_, grpc.UnaryStreamMultiCallable):
            return lambda request, **kw: Stream(callable_(request, **kw), full, self._diagnose)

        def unary(request: Message, **kw: Any) -> Any:
            if kw.get("timeout") is None:
                kw["timeout"] = self._default_deadline
            try:
                return callable_(request, **kw)
            except grpc.RpcError as error:
                raise from_rpc_error(error, full, self._diagnose) from None

        return unary


def _waited(wait_seconds: Optional[float], deadline: Optional[float], default: Optional[float]) -> Optional[float]:
    """The client deadline of a call that waits on the daemon up to wait_seconds."""
    if deadline is not None:
        return deadline
    if wait_seconds is None or default is None:
        return default
    return wait_seconds + default


class Client:
    """A connection to one daemon. Close it (or use `with`) when done. Every method takes
    `deadline` (seconds, client side; default DEFAULT_DEADLINE, plus the wait for waiting calls)
    and raises a CorralError subclass (NotFound, FailedPrecondition, ...) on failure. `tls`:
    the options the channel was made with, for naming the problem when the daemon cannot be
    reached (CorralError.connection_problem)."""

    def __init__(
        self, address: str, channel: grpc.Channel, default_deadline: Optional[float] = DEFAULT_DEADLINE, tls: Optional[TlsOptions] = None
    ) -> None:
        self.address = address
        self.channel = channel
        self.default_deadline = default_deadline
        diagnose: Diagnose = lambda: diagnose_connection(address, tls)  # noqa: E731
        self.process_manager = _Stub(pm_grpc.ProcessManagerStub(channel), "corral.v1.ProcessManager", default_deadline, diagnose)
        self.task_runner = _Stub(tr_grpc.TaskRunnerStub(channel), "corral.v1.TaskRunner", default_deadline, diagnose)
        self.process_monitor = _Stub(mon_grpc.ProcessMonitorStub(channel), "corral.v1.ProcessMonitor", default_deadline, diagnose)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ProcessManager -------------------------------------------------------------------
    def list_processes(self, names: Sequence[str] = (), labels: Optional[Mapping[str, str]] = None, deadline: Optional[float] = None) -> List[pm.ProcessInfo]:
        request = pm.ListProcessesRequest(selector=_selector(names, labels))
        response: pm.ListProcessesResponse = self.process_manager.ListProcesses(request, timeout=deadline)
        return list(response.processes)

    def status(self, name: str, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """GetProcess: the program's state, its current (or last) run, its spec."""
        response: pm.GetProcessResponse = self.process_manager.GetProcess(pm.GetProcessRequest(name=name), timeout=deadline)
        return response.process

    def start(self, name: str, wait: pm.StartWait = pm.START_WAIT_RUNNING, timeout: Optional[float] = None, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """Starts a program and waits (by default) until it is RUNNING; a start that ends FATAL
        raises FailedPrecondition with reason PROGRAM_FATAL."""
        request = pm.StartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StartProcessResponse = self.process_manager.StartProcess(request, timeout=_waited(timeout, deadline, self.default_deadline))
        return response.process

    def stop(self, name: str, wait: pm.StopWait = pm.STOP_WAIT_STOPPED, timeout: Optional[float] = None, deadline: Optional[float] = None) -> "StopResult":
        """Two-stage stop of the program's process group; waits until it is gone by default.
        Returns a StopResult: the ProcessInfo's fields (result.state, result.run...), plus
        `survivors` (pids alive after SIGKILL, as CGSE's quit() counts them) and `shutdown`
        (was_running, pid, how: SOFT, HARD, SURVIVORS or NOT_RUNNING)."""
        request = pm.StopProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StopProcessResponse = self.process_manager.StopProcess(request, timeout=_waited(timeout, deadline, self.default_deadline))
        return StopResult(response)

    def restart(self, name: str, wait: pm.StartWait = pm.START_WAIT_RUNNING, timeout: Optional[float] = None, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """Stops the program if it runs, then starts it (a stopped one is just started)."""
        request = pm.RestartProcessRequest(name=name, wait=wait)
        _duration(timeout, request.timeout)
        response: pm.RestartProcessResponse = self.process_manager.RestartProcess(request, timeout=_waited(timeout, deadline, self.default_deadline))
        return response.process

    def signal(self, name: str, signal: str, group: bool = False, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """Sends a signal ("SIGHUP", "HUP" or a number) to the run (group=True: its whole group)."""
        request = pm.SignalProcessRequest(name=name, signal=signal, group=group)
        response: pm.SignalProcessResponse = self.process_manager.SignalProcess(request, timeout=deadline)
        return response.process

    def start_all(
        self,
        names: Sequence[str] = (),
        labels: Optional[Mapping[str, str]] = None,
        wait: pm.StartWait = pm.START_WAIT_RUNNING,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
    ) -> List[pm.ProgramResult]:
        """Starts the selected programs (all by default) in dependency and config order; one
        result per program (a failed one has ok=False, code, error and status with details)."""
        request = pm.StartAllRequest(selector=_selector(names, labels), wait=wait)
        _duration(timeout, request.timeout)
        response: pm.StartAllResponse = self.process_manager.StartAll(request, timeout=_waited(timeout, deadline, self.default_deadline))
        return list(response.results)

    def stop_all(
        self,
        names: Sequence[str] = (),
        labels: Optional[Mapping[str, str]] = None,
        wait: pm.StopWait = pm.STOP_WAIT_STOPPED,
        timeout: Optional[float] = None,
        deadline: Optional[float] = None,
        sequential: Optional[bool] = None,
    ) -> List[pm.ProgramResult]:
        """Stops the selected programs (all by default), dependents first. sequential: one at a
        time in reverse order, each gone before the next (None: the daemon's server.stop_order).
        Each result's `shutdown` says how its stop went."""
        request = pm.StopAllRequest(selector=_selector(names, labels), wait=wait)
        if sequential is not None:
            request.sequential = sequential
        _duration(timeout, request.timeout)
        response: pm.StopAllResponse = self.process_manager.StopAll(request, timeout=_waited(timeout, deadline, self.default_deadline))
        return list(response.results)

    def read_logs(
        self,
        name: str,
        stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED,
        tail_lines: int = 0,
        offset: int = 0,
        max_bytes: int = 0,
        since: Optional[datetime] = None,
        deadline: Optional[float] = None,
        stream_name: str = "",
    ) -> pm.ReadLogsResponse:
        """Part of one stream (stdout unless one is named): by kind (stream=LOG_STREAM_STDERR) or
        by name (stream_name: "stdout", "stderr", a redirect_output label or a custom stream).
        The chunk's stream_name is the stream's label."""
        request = pm.ReadLogsRequest(name=name, stream=stream, tail_lines=tail_lines, offset=offset, max_bytes=max_bytes, stream_name=stream_name)
        _since(since, request)
        response: pm.ReadLogsResponse = self.process_manager.ReadLogs(request, timeout=deadline)
        return response

    def read_all_logs(
        self,
        tail_lines: int = 20,
        streams: Sequence[pm.LogStream] = (pm.LOG_STREAM_STDOUT, pm.LOG_STREAM_STDERR),
        since: Optional[datetime] = None,
        deadline: Optional[float] = None,
    ) -> List[pm.LogChunk]:
        """The last tail_lines lines (or, with since=, up to 1 MiB written since then) of every
        program's streams, as `corral logs` starts: one chunk per program and stream, in config
        order, each naming its program (chunk.program)."""
        chunks: List[pm.LogChunk] = []
        for name in _local_programs(self.list_processes(deadline=deadline)):
            for stream in streams:
                chunks.append(self.read_logs(name, stream=stream, tail_lines=tail_lines, since=since, deadline=deadline).chunk)
        return chunks

    def follow_logs(
        self,
        name: str,
        stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED,
        tail_lines: int = 0,
        offset: Optional[int] = None,
        since: Optional[datetime] = None,
        deadline: Optional[float] = None,
        stream_names: Sequence[str] = (),
    ) -> Stream[pm.FollowLogsResponse]:
        """New output as it is written (stdout and stderr unless a stream is named, or several
        by stream_names: labels and custom streams too), until cancelled. Each chunk's
        stream_name says which stream it is, by its label."""
        request = pm.FollowLogsRequest(name=name, stream=stream, tail_lines=tail_lines, stream_names=list(stream_names))
        if offset is not None:
            request.offset = offset
        _since(since, request)
        stream_: Stream[pm.FollowLogsResponse] = self.process_manager.FollowLogs(request, timeout=deadline)
        return stream_

    def follow_all_logs(
        self, stream: pm.LogStream = pm.LOG_STREAM_UNSPECIFIED, tail_lines: int = 0, since: Optional[datetime] = None, deadline: Optional[float] = None
    ) -> Stream[pm.FollowLogsResponse]:
        """Every program's output as it is written (like `corral logs`), until cancelled; each
        chunk names its program (chunk.program). The programs are those configured at the call."""
        request = pm.FollowLogsRequest(all_programs=True, stream=stream, tail_lines=tail_lines)
        _since(since, request)
        stream_: Stream[pm.FollowLogsResponse] = self.process_manager.FollowLogs(request, timeout=deadline)
        return stream_

    def watch_events(self, after_seq: int = 0, live_only: bool = False, programs: Sequence[str] = (), deadline: Optional[float] = None) -> Stream[pm.WatchEventsResponse]:
        """Journaled events after after_seq, then live ones; a `gap` says some were lost."""
        request = pm.WatchEventsRequest(after_seq=after_seq, live_only=live_only, programs=list(programs))
        stream: Stream[pm.WatchEventsResponse] = self.process_manager.WatchEvents(request, timeout=deadline)
        return stream

    def server_info(self, deadline: Optional[float] = None) -> pm.GetServerInfoResponse:
        response: pm.GetServerInfoResponse = self.process_manager.GetServerInfo(pm.GetServerInfoRequest(), timeout=deadline)
        return response

    def shutdown(self, keep_processes: bool = False, deadline: Optional[float] = None) -> None:
        """Stops the daemon (and its programs unless keep_processes)."""
        self.process_manager.Shutdown(pm.ShutdownRequest(keep_processes=keep_processes), timeout=deadline)

    def write_stdin(self, name: str, data: bytes, deadline: Optional[float] = None) -> int:
        """Writes to the program's stdin (stdin: true in its config); returns the bytes written."""
        response: pm.WriteStdinResponse = self.process_manager.WriteStdin(pm.WriteStdinRequest(name=name, data=data), timeout=deadline)
        return response.bytes_written

    def close_stdin(self, name: str, deadline: Optional[float] = None) -> None:
        self.process_manager.CloseStdin(pm.CloseStdinRequest(name=name), timeout=deadline)

    def apply_config(
        self, text: Optional[str] = None, path: Optional[str] = None, dry_run: bool = False, allow_empty: bool = False, deadline: Optional[float] = None
    ) -> pm.ConfigDiff:
        """Makes the config's programs these (YAML text, or a file path on the daemon's host),
        restarting only what changed. Problems raise InvalidArgument with one
        bad_request.field_violations entry each (description starts with file:line:col). A
        config with no programs is refused (field "programs") unless allow_empty=True."""
        if (text is None) == (path is None):
            raise ValueError("apply_config needs exactly one of text= or path=")
        request = pm.ApplyConfigRequest(text=text) if text is not None else pm.ApplyConfigRequest(path=path)
        request.dry_run = dry_run
        request.allow_empty = allow_empty
        response: pm.ApplyConfigResponse = self.process_manager.ApplyConfig(request, timeout=deadline)
        return response.diff

    def reload_config(self, dry_run: bool = False, deadline: Optional[float] = None) -> pm.ConfigDiff:
        """Reads the daemon's config file again and applies it."""
        response: pm.ReloadConfigResponse = self.process_manager.ReloadConfig(pm.ReloadConfigRequest(dry_run=dry_run), timeout=deadline)
        return response.diff

    def create_program(self, spec: pm.ProgramSpec, start: bool = False, deadline: Optional[float] = None) -> pm.ProcessInfo:
        """An ad-hoc program (the daemon must allow them: server.allow_adhoc)."""
        response: pm.CreateProgramResponse = self.process_manager.CreateProgram(pm.CreateProgramRequest(spec=spec, start=start), timeout=deadline)
        return response.process

    def delete_program(self, name: str, deadline: Optional[float] = None) -> None:
        self.process_manager.DeleteProgram(pm.DeleteProgramRequest(name=name), timeout=deadline)

    # --- ProcessMonitor -------------------------------------------------------------------
    def stats(self, program: Optional[str] = None, pid: Optional[int] = None, include_children: bool = False, interval: Optional[float] = None, deadline: Optional[float] = None) -> mon.StatsSample:
        """One sample of a program's current run (or any pid); with `interval` (seconds) the
        daemon samples twice so that cpu_percent is known."""
        request = mon.GetStatsRequest(target=_target(program, pid), include_children=include_children)
        _duration(interval, request.interval)
        response: mon.GetStatsResponse = self.process_monitor.GetStats(request, timeout=_waited(interval, deadline, self.default_deadline))
        return response.sample

    def watch_stats(
        self, programs: Sequence[str] = (), pids: Sequence[int] = (), interval: Optional[float] = None, include_children: bool = False, deadline: Optional[float] = None
    ) -> Stream[mon.WatchStatsResponse]:
        """One tick per interval with a sample per target (programs first, then pids)."""
        targets = [mon.StatsTarget(program=p) for p in programs] + [mon.StatsTarget(pid=p) for p in pids]
        request = mon.WatchStatsRequest(targets=targets, include_children=include_children)
        _duration(interval, request.interval)
        stream: Stream[mon.WatchStatsResponse] = self.process_monitor.WatchStats(request, timeout=deadline)
        return stream

    def find_processes(self, items: Sequence[str], contains: bool = True, case_sensitive: bool = False, deadline: Optional[float] = None) -> List[mon.ProcessEntry]:
        """Host processes whose command line matches every item (CGSE's semantics)."""
        request = mon.FindProcessesRequest(items=list(items), contains=contains, case_sensitive=case_sensitive)
        response: mon.FindProcessesResponse = self.process_monitor.FindProcesses(request, timeout=deadline)
        return list(response.processes)

    def is_process_running(
        self, items: Union[Sequence[str], str], contains: bool = True, case_sensitive: bool = False, as_list: bool = False
    ) -> Union[bool, List[int]]:
        """CGSE's is_process_running: whether a process matching every item runs; with
        as_list, the list of their pids instead."""
        items = [items] if isinstance(items, str) else list(items)
        pids = [p.pid for p in self.find_processes(items, contains, case_sensitive)]
        return pids if as_list else len(pids) > 0

    def get_process_info(self, items: Union[Sequence[str], str], contains: bool = True, case_sensitive: bool = False) -> List[ProcessDict]:
        """CGSE's get_process_info: one dict per matching process (pid, ppid, name, cmdline,
        state, uid, create_time in epoch seconds, and program when corral manages it)."""
        items = [items] if isinstance(items, str) else list(items)
        return [_process_dict(p) for p in self.find_processes(items, contains, case_sensitive)]

    def list_host_processes(self, items: Union[Sequence[str], str], contains: bool = True, case_sensitive: bool = False) -> List[ProcessDict]:
        """CGSE's list_processes (named so beside list_processes, which lists programs): one
        dict per host process matching the items, as CGSE gives them: pid, status (psutil's
        word: "running", "sleeping", "zombie"...) and cmdline (one string). As in CGSE, at
        least one item is needed (the daemon refuses none with InvalidArgument)."""
        items = [items] if isinstance(items, str) else list(items)
        return [{"pid": p.pid, "status": status_of(p.state), "cmdline": " ".join(p.cmdline)} for p in self.find_processes(items, contains, case_sensitive)]

    def list_zombies(self, deadline: Optional[float] = None) -> List[mon.ZombieProcess]:
        response: mon.ListZombiesResponse = self.process_monitor.ListZombies(mon.ListZombiesRequest(), timeout=deadline)
        return list(response.zombies)

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
        deadline: Optional[float] = None,
    ) -> Stream[mon.RunMonitoredResponse]:
        """Runs a command under watch: started, output, progress, then one result (last)."""
        request = mon.RunMonitoredRequest(command=command, args=list(args), env=dict(env or {}), cwd=cwd, kill_signal=kill_signal, progress_pattern=progress_pattern)
        _duration(inactivity_timeout, request.inactivity_timeout)
        _duration(total_timeout, request.total_timeout)
        _duration(kill_grace, request.kill_grace)
        stream: Stream[mon.RunMonitoredResponse] = self.process_monitor.RunMonitored(request, timeout=deadline)
        return stream

    def report_progress(self, run_id: int, message: str = "", deadline: Optional[float] = None) -> None:
        """Resets a monitored run's inactivity timer (Launchpad's progress notification)."""
        self.process_monitor.ReportProgress(mon.ReportProgressRequest(run_id=run_id, message=message), timeout=deadline)

    def fail_monitored(self, run_id: int, reason: str, deadline: Optional[float] = None) -> None:
        """Fails a monitored run with a reason (Launchpad's unexpectedError): SIGINT to its
        group, SIGKILL after the grace; the result is FAILED_BY_CLIENT with this reason unless
        another failure came first."""
        if not reason:
            raise ValueError("fail_monitored needs a non-empty reason")
        self.process_monitor.ReportProgress(mon.ReportProgressRequest(run_id=run_id, fail_reason=reason), timeout=deadline)

    # --- TaskRunner -----------------------------------------------------------------------
    def task_types(self, deadline: Optional[float] = None) -> List[tr.TaskTypeInfo]:
        response: tr.ListTaskTypesResponse = self.task_runner.ListTaskTypes(tr.ListTaskTypesRequest(), timeout=deadline)
        return list(response.types)

    def tasks(self, deadline: Optional[float] = None) -> List[tr.TaskInfo]:
        response: tr.ListTasksResponse = self.task_runner.ListTasks(tr.ListTasksRequest(), timeout=deadline)
        return list(response.tasks)

    def task(self, name: str, token: str = "") -> TaskHandle:
        """A handle on an existing task (no call is made)."""
        return TaskHandle(self, name, token)

    def create_task(self, name: str, type: str, args: Json = None, settings: Json = None, deadline: Optional[float] = None) -> TaskHandle:
        request = tr.CreateTaskRequest(name=name, type=type)
        if args is not None:
            request.args.CopyFrom(to_value(args))
        if settings is not None:
            request.settings.CopyFrom(to_value(settings))
        self.task_runner.CreateTask(request, timeout=deadline)
        return TaskHandle(self, name)

    def force_unlock(self, name: str, deadline: Optional[float] = None) -> bool:
        """Releases a task's lock whoever holds it; True when it was locked."""
        response: tr.ForceUnlockResponse = self.task_runner.ForceUnlock(tr.ForceUnlockRequest(name=name), timeout=deadline)
        return response.was_locked

    def watch_signals(self, tasks: Sequence[str] = (), names: Sequence[str] = (), after_seq: int = 0, live_only: bool = False, deadline: Optional[float] = None) -> Stream[tr.WatchSignalsResponse]:
        request = tr.WatchSignalsRequest(tasks=list(tasks), names=list(names), after_seq=after_seq, live_only=live_only)
        stream: Stream[tr.WatchSignalsResponse] = self.task_runner.WatchSignals(request, timeout=deadline)
        return stream


def _selector(names: Sequence[str], labels: Optional[Mapping[str, str]]) -> pm.LabelSelector:
    return pm.LabelSelector(names=list(names), match_labels=dict(labels or {}))


def _target(program: Optional[str], pid: Optional[int]) -> mon.StatsTarget:
    return mon.StatsTarget(program=program) if program is not None else mon.StatsTarget(pid=pid or 0)


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


# psutil's word for each state letter of /proc/PID/stat (psutil's PROC_STATUSES on Linux).
_PROC_STATUS = {
    "R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop", "Z": "zombie",
    "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "P": "parked", "I": "idle",
}


def status_of(state: str) -> str:
    """psutil's status word for a ProcessEntry's state letter (the letter when psutil has none)."""
    return _PROC_STATUS.get(state, state)


def _process_dict(p: mon.ProcessEntry) -> ProcessDict:
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
    options: Optional[Mapping[str, Union[str, int]]] = None,
    *,
    tls: Optional[TlsOptions] = None,
    token: Optional[str] = None,
    token_file: Optional[str] = None,
    default_deadline: Optional[float] = DEFAULT_DEADLINE,
) -> Client:
    """Connects to a corral daemon (lazily: errors surface on the first call). `address`:
    see resolve_address; default $CORRAL_ADDRESS, then $CORRAL_HOME/corral.sock or
    ~/.corral/corral.sock. `options`: extra grpc channel options. `tls`: connect over TLS (TCP
    addresses only) with these PEM files. `token` (or the first line of `token_file`): sent as
    `authorization: Bearer <token>` with every call. `default_deadline`: seconds each unary call
    may take on the client side unless it passes its own `deadline` (None: no deadline)."""
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
    return Client(target, channel, default_deadline, tls)
