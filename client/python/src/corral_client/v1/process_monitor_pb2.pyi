import datetime

from corral_client.v1 import process_manager_pb2 as _process_manager_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProgressSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROGRESS_SOURCE_UNSPECIFIED: _ClassVar[ProgressSource]
    PROGRESS_SOURCE_PATTERN: _ClassVar[ProgressSource]
    PROGRESS_SOURCE_REPORT: _ClassVar[ProgressSource]

class MonitoredOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MONITORED_OUTCOME_UNSPECIFIED: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_COMPLETED: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_FAILED: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_TIMED_OUT: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_SPAWN_FAILED: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_KILLED_BY_CLIENT: _ClassVar[MonitoredOutcome]
    MONITORED_OUTCOME_FAILED_BY_CLIENT: _ClassVar[MonitoredOutcome]

class TimeoutKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMEOUT_KIND_UNSPECIFIED: _ClassVar[TimeoutKind]
    TIMEOUT_KIND_INACTIVITY: _ClassVar[TimeoutKind]
    TIMEOUT_KIND_TOTAL: _ClassVar[TimeoutKind]
PROGRESS_SOURCE_UNSPECIFIED: ProgressSource
PROGRESS_SOURCE_PATTERN: ProgressSource
PROGRESS_SOURCE_REPORT: ProgressSource
MONITORED_OUTCOME_UNSPECIFIED: MonitoredOutcome
MONITORED_OUTCOME_COMPLETED: MonitoredOutcome
MONITORED_OUTCOME_FAILED: MonitoredOutcome
MONITORED_OUTCOME_TIMED_OUT: MonitoredOutcome
MONITORED_OUTCOME_SPAWN_FAILED: MonitoredOutcome
MONITORED_OUTCOME_KILLED_BY_CLIENT: MonitoredOutcome
MONITORED_OUTCOME_FAILED_BY_CLIENT: MonitoredOutcome
TIMEOUT_KIND_UNSPECIFIED: TimeoutKind
TIMEOUT_KIND_INACTIVITY: TimeoutKind
TIMEOUT_KIND_TOTAL: TimeoutKind

class StatsTarget(_message.Message):
    __slots__ = ("program", "pid")
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    program: str
    pid: int
    def __init__(self, program: _Optional[str] = ..., pid: _Optional[int] = ...) -> None: ...

class ProcessStats(_message.Message):
    __slots__ = ("pid", "ppid", "name", "state", "cpu_percent", "cpu_seconds", "rss_bytes", "vsize_bytes", "threads", "open_fds", "started_at", "uptime", "pid_start_ticks")
    PID_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    VSIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FDS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    PID_START_TICKS_FIELD_NUMBER: _ClassVar[int]
    pid: int
    ppid: int
    name: str
    state: str
    cpu_percent: float
    cpu_seconds: float
    rss_bytes: int
    vsize_bytes: int
    threads: int
    open_fds: int
    started_at: _timestamp_pb2.Timestamp
    uptime: _duration_pb2.Duration
    pid_start_ticks: int
    def __init__(self, pid: _Optional[int] = ..., ppid: _Optional[int] = ..., name: _Optional[str] = ..., state: _Optional[str] = ..., cpu_percent: _Optional[float] = ..., cpu_seconds: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., vsize_bytes: _Optional[int] = ..., threads: _Optional[int] = ..., open_fds: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., pid_start_ticks: _Optional[int] = ...) -> None: ...

class StatsSample(_message.Message):
    __slots__ = ("target", "program", "run_id", "process", "total", "children", "time", "error")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    target: StatsTarget
    program: str
    run_id: int
    process: ProcessStats
    total: ProcessStats
    children: _containers.RepeatedCompositeFieldContainer[ProcessStats]
    time: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, target: _Optional[_Union[StatsTarget, _Mapping]] = ..., program: _Optional[str] = ..., run_id: _Optional[int] = ..., process: _Optional[_Union[ProcessStats, _Mapping]] = ..., total: _Optional[_Union[ProcessStats, _Mapping]] = ..., children: _Optional[_Iterable[_Union[ProcessStats, _Mapping]]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("target", "include_children", "interval")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    target: StatsTarget
    include_children: bool
    interval: _duration_pb2.Duration
    def __init__(self, target: _Optional[_Union[StatsTarget, _Mapping]] = ..., include_children: bool = ..., interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("sample",)
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    sample: StatsSample
    def __init__(self, sample: _Optional[_Union[StatsSample, _Mapping]] = ...) -> None: ...

class WatchStatsRequest(_message.Message):
    __slots__ = ("targets", "interval", "include_children")
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[StatsTarget]
    interval: _duration_pb2.Duration
    include_children: bool
    def __init__(self, targets: _Optional[_Iterable[_Union[StatsTarget, _Mapping]]] = ..., interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., include_children: bool = ...) -> None: ...

class WatchStatsResponse(_message.Message):
    __slots__ = ("samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    samples: _containers.RepeatedCompositeFieldContainer[StatsSample]
    def __init__(self, samples: _Optional[_Iterable[_Union[StatsSample, _Mapping]]] = ...) -> None: ...

class FindProcessesRequest(_message.Message):
    __slots__ = ("items", "contains", "case_sensitive")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    CASE_SENSITIVE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedScalarFieldContainer[str]
    contains: bool
    case_sensitive: bool
    def __init__(self, items: _Optional[_Iterable[str]] = ..., contains: bool = ..., case_sensitive: bool = ...) -> None: ...

class ProcessEntry(_message.Message):
    __slots__ = ("pid", "ppid", "name", "cmdline", "create_time", "state", "uid", "program", "run_id")
    PID_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CMDLINE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    pid: int
    ppid: int
    name: str
    cmdline: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    state: str
    uid: int
    program: str
    run_id: int
    def __init__(self, pid: _Optional[int] = ..., ppid: _Optional[int] = ..., name: _Optional[str] = ..., cmdline: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., uid: _Optional[int] = ..., program: _Optional[str] = ..., run_id: _Optional[int] = ...) -> None: ...

class FindProcessesResponse(_message.Message):
    __slots__ = ("processes",)
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedCompositeFieldContainer[ProcessEntry]
    def __init__(self, processes: _Optional[_Iterable[_Union[ProcessEntry, _Mapping]]] = ...) -> None: ...

class ListZombiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ZombieProcess(_message.Message):
    __slots__ = ("pid", "ppid", "name", "cmdline", "parent_is_daemon", "program")
    PID_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CMDLINE_FIELD_NUMBER: _ClassVar[int]
    PARENT_IS_DAEMON_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    pid: int
    ppid: int
    name: str
    cmdline: _containers.RepeatedScalarFieldContainer[str]
    parent_is_daemon: bool
    program: str
    def __init__(self, pid: _Optional[int] = ..., ppid: _Optional[int] = ..., name: _Optional[str] = ..., cmdline: _Optional[_Iterable[str]] = ..., parent_is_daemon: bool = ..., program: _Optional[str] = ...) -> None: ...

class ListZombiesResponse(_message.Message):
    __slots__ = ("zombies",)
    ZOMBIES_FIELD_NUMBER: _ClassVar[int]
    zombies: _containers.RepeatedCompositeFieldContainer[ZombieProcess]
    def __init__(self, zombies: _Optional[_Iterable[_Union[ZombieProcess, _Mapping]]] = ...) -> None: ...

class RunMonitoredRequest(_message.Message):
    __slots__ = ("command", "args", "env", "cwd", "inactivity_timeout", "total_timeout", "kill_signal", "kill_grace", "progress_pattern")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    INACTIVITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    KILL_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    KILL_GRACE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PATTERN_FIELD_NUMBER: _ClassVar[int]
    command: str
    args: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    cwd: str
    inactivity_timeout: _duration_pb2.Duration
    total_timeout: _duration_pb2.Duration
    kill_signal: str
    kill_grace: _duration_pb2.Duration
    progress_pattern: str
    def __init__(self, command: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., env: _Optional[_Mapping[str, str]] = ..., cwd: _Optional[str] = ..., inactivity_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., total_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., kill_signal: _Optional[str] = ..., kill_grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., progress_pattern: _Optional[str] = ...) -> None: ...

class RunMonitoredResponse(_message.Message):
    __slots__ = ("started", "output", "progress", "result")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    started: MonitoredStarted
    output: MonitoredOutput
    progress: MonitoredProgress
    result: MonitoredResult
    def __init__(self, started: _Optional[_Union[MonitoredStarted, _Mapping]] = ..., output: _Optional[_Union[MonitoredOutput, _Mapping]] = ..., progress: _Optional[_Union[MonitoredProgress, _Mapping]] = ..., result: _Optional[_Union[MonitoredResult, _Mapping]] = ...) -> None: ...

class MonitoredStarted(_message.Message):
    __slots__ = ("run_id", "pid")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    pid: int
    def __init__(self, run_id: _Optional[int] = ..., pid: _Optional[int] = ...) -> None: ...

class MonitoredOutput(_message.Message):
    __slots__ = ("stream", "data")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    stream: _process_manager_pb2.LogStream
    data: bytes
    def __init__(self, stream: _Optional[_Union[_process_manager_pb2.LogStream, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class MonitoredProgress(_message.Message):
    __slots__ = ("message", "source", "time")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    message: str
    source: ProgressSource
    time: _timestamp_pb2.Timestamp
    def __init__(self, message: _Optional[str] = ..., source: _Optional[_Union[ProgressSource, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MonitoredFailure(_message.Message):
    __slots__ = ("outcome", "message")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    outcome: MonitoredOutcome
    message: str
    def __init__(self, outcome: _Optional[_Union[MonitoredOutcome, str]] = ..., message: _Optional[str] = ...) -> None: ...

class MonitoredResult(_message.Message):
    __slots__ = ("outcome", "exit_code", "signal", "timeout", "elapsed", "timed_out_after", "spawn_path", "spawn_errno", "message", "sigkilled", "secondary")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_AFTER_FIELD_NUMBER: _ClassVar[int]
    SPAWN_PATH_FIELD_NUMBER: _ClassVar[int]
    SPAWN_ERRNO_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SIGKILLED_FIELD_NUMBER: _ClassVar[int]
    SECONDARY_FIELD_NUMBER: _ClassVar[int]
    outcome: MonitoredOutcome
    exit_code: int
    signal: str
    timeout: TimeoutKind
    elapsed: _duration_pb2.Duration
    timed_out_after: _duration_pb2.Duration
    spawn_path: str
    spawn_errno: str
    message: str
    sigkilled: bool
    secondary: _containers.RepeatedCompositeFieldContainer[MonitoredFailure]
    def __init__(self, outcome: _Optional[_Union[MonitoredOutcome, str]] = ..., exit_code: _Optional[int] = ..., signal: _Optional[str] = ..., timeout: _Optional[_Union[TimeoutKind, str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timed_out_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., spawn_path: _Optional[str] = ..., spawn_errno: _Optional[str] = ..., message: _Optional[str] = ..., sigkilled: bool = ..., secondary: _Optional[_Iterable[_Union[MonitoredFailure, _Mapping]]] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("run_id", "message", "fail_reason")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FAIL_REASON_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    message: str
    fail_reason: str
    def __init__(self, run_id: _Optional[int] = ..., message: _Optional[str] = ..., fail_reason: _Optional[str] = ...) -> None: ...

class ReportProgressResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
