import datetime

from corral_client.v1 import sequence_pb2 as _sequence_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESS_STATE_UNSPECIFIED: _ClassVar[ProcessState]
    PROCESS_STATE_STOPPED: _ClassVar[ProcessState]
    PROCESS_STATE_STARTING: _ClassVar[ProcessState]
    PROCESS_STATE_RUNNING: _ClassVar[ProcessState]
    PROCESS_STATE_BACKOFF: _ClassVar[ProcessState]
    PROCESS_STATE_STOPPING: _ClassVar[ProcessState]
    PROCESS_STATE_EXITED: _ClassVar[ProcessState]
    PROCESS_STATE_FATAL: _ClassVar[ProcessState]
    PROCESS_STATE_UNKNOWN: _ClassVar[ProcessState]

class RestartPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTART_POLICY_UNSPECIFIED: _ClassVar[RestartPolicy]
    RESTART_POLICY_NEVER: _ClassVar[RestartPolicy]
    RESTART_POLICY_ON_FAILURE: _ClassVar[RestartPolicy]
    RESTART_POLICY_ALWAYS: _ClassVar[RestartPolicy]

class LogStream(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_STREAM_UNSPECIFIED: _ClassVar[LogStream]
    LOG_STREAM_STDOUT: _ClassVar[LogStream]
    LOG_STREAM_STDERR: _ClassVar[LogStream]
    LOG_STREAM_CUSTOM: _ClassVar[LogStream]

class StartWait(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    START_WAIT_UNSPECIFIED: _ClassVar[StartWait]
    START_WAIT_NONE: _ClassVar[StartWait]
    START_WAIT_RUNNING: _ClassVar[StartWait]
    START_WAIT_READY: _ClassVar[StartWait]

class StopWait(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOP_WAIT_UNSPECIFIED: _ClassVar[StopWait]
    STOP_WAIT_NONE: _ClassVar[StopWait]
    STOP_WAIT_STOPPED: _ClassVar[StopWait]

class DependencyCondition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPENDENCY_CONDITION_UNSPECIFIED: _ClassVar[DependencyCondition]
    DEPENDENCY_CONDITION_STARTED: _ClassVar[DependencyCondition]
    DEPENDENCY_CONDITION_READY: _ClassVar[DependencyCondition]
    DEPENDENCY_CONDITION_COMPLETED: _ClassVar[DependencyCondition]
    DEPENDENCY_CONDITION_COMPLETED_SUCCESSFULLY: _ClassVar[DependencyCondition]

class ProcessView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESS_VIEW_UNSPECIFIED: _ClassVar[ProcessView]
    PROCESS_VIEW_BASIC: _ClassVar[ProcessView]
    PROCESS_VIEW_STATUS: _ClassVar[ProcessView]

class ShutdownHow(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHUTDOWN_HOW_UNSPECIFIED: _ClassVar[ShutdownHow]
    SHUTDOWN_HOW_SOFT: _ClassVar[ShutdownHow]
    SHUTDOWN_HOW_HARD: _ClassVar[ShutdownHow]
    SHUTDOWN_HOW_SURVIVORS: _ClassVar[ShutdownHow]
    SHUTDOWN_HOW_NOT_RUNNING: _ClassVar[ShutdownHow]
    SHUTDOWN_HOW_PENDING: _ClassVar[ShutdownHow]

class LogGapReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_GAP_REASON_UNSPECIFIED: _ClassVar[LogGapReason]
    LOG_GAP_REASON_BACKUPS: _ClassVar[LogGapReason]
    LOG_GAP_REASON_MAX_TOTAL: _ClassVar[LogGapReason]
    LOG_GAP_REASON_DISK_FULL: _ClassVar[LogGapReason]
PROCESS_STATE_UNSPECIFIED: ProcessState
PROCESS_STATE_STOPPED: ProcessState
PROCESS_STATE_STARTING: ProcessState
PROCESS_STATE_RUNNING: ProcessState
PROCESS_STATE_BACKOFF: ProcessState
PROCESS_STATE_STOPPING: ProcessState
PROCESS_STATE_EXITED: ProcessState
PROCESS_STATE_FATAL: ProcessState
PROCESS_STATE_UNKNOWN: ProcessState
RESTART_POLICY_UNSPECIFIED: RestartPolicy
RESTART_POLICY_NEVER: RestartPolicy
RESTART_POLICY_ON_FAILURE: RestartPolicy
RESTART_POLICY_ALWAYS: RestartPolicy
LOG_STREAM_UNSPECIFIED: LogStream
LOG_STREAM_STDOUT: LogStream
LOG_STREAM_STDERR: LogStream
LOG_STREAM_CUSTOM: LogStream
START_WAIT_UNSPECIFIED: StartWait
START_WAIT_NONE: StartWait
START_WAIT_RUNNING: StartWait
START_WAIT_READY: StartWait
STOP_WAIT_UNSPECIFIED: StopWait
STOP_WAIT_NONE: StopWait
STOP_WAIT_STOPPED: StopWait
DEPENDENCY_CONDITION_UNSPECIFIED: DependencyCondition
DEPENDENCY_CONDITION_STARTED: DependencyCondition
DEPENDENCY_CONDITION_READY: DependencyCondition
DEPENDENCY_CONDITION_COMPLETED: DependencyCondition
DEPENDENCY_CONDITION_COMPLETED_SUCCESSFULLY: DependencyCondition
PROCESS_VIEW_UNSPECIFIED: ProcessView
PROCESS_VIEW_BASIC: ProcessView
PROCESS_VIEW_STATUS: ProcessView
SHUTDOWN_HOW_UNSPECIFIED: ShutdownHow
SHUTDOWN_HOW_SOFT: ShutdownHow
SHUTDOWN_HOW_HARD: ShutdownHow
SHUTDOWN_HOW_SURVIVORS: ShutdownHow
SHUTDOWN_HOW_NOT_RUNNING: ShutdownHow
SHUTDOWN_HOW_PENDING: ShutdownHow
LOG_GAP_REASON_UNSPECIFIED: LogGapReason
LOG_GAP_REASON_BACKUPS: LogGapReason
LOG_GAP_REASON_MAX_TOTAL: LogGapReason
LOG_GAP_REASON_DISK_FULL: LogGapReason

class ProgramSpec(_message.Message):
    __slots__ = ("name", "command", "cwd", "env", "autostart", "autorestart", "exitcodes", "startsecs", "startretries", "stop_signal", "stop_timeout", "labels", "backoff", "log", "max_restarts", "restart_window", "stdin", "description", "readiness", "liveness", "depends_on", "host", "redirect_output", "custom_streams", "detach", "limits", "max_memory", "user", "group")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class DependsOnEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: DependencyCondition
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[DependencyCondition, str]] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    AUTOSTART_FIELD_NUMBER: _ClassVar[int]
    AUTORESTART_FIELD_NUMBER: _ClassVar[int]
    EXITCODES_FIELD_NUMBER: _ClassVar[int]
    STARTSECS_FIELD_NUMBER: _ClassVar[int]
    STARTRETRIES_FIELD_NUMBER: _ClassVar[int]
    STOP_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STOP_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    MAX_RESTARTS_FIELD_NUMBER: _ClassVar[int]
    RESTART_WINDOW_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    READINESS_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_STREAMS_FIELD_NUMBER: _ClassVar[int]
    DETACH_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    command: _containers.RepeatedScalarFieldContainer[str]
    cwd: str
    env: _containers.ScalarMap[str, str]
    autostart: bool
    autorestart: RestartPolicy
    exitcodes: _containers.RepeatedScalarFieldContainer[int]
    startsecs: _duration_pb2.Duration
    startretries: int
    stop_signal: str
    stop_timeout: _duration_pb2.Duration
    labels: _containers.ScalarMap[str, str]
    backoff: BackoffSpec
    log: LogSpec
    max_restarts: int
    restart_window: _duration_pb2.Duration
    stdin: bool
    description: str
    readiness: ProbeSpec
    liveness: ProbeSpec
    depends_on: _containers.ScalarMap[str, DependencyCondition]
    host: str
    redirect_output: _containers.RepeatedScalarFieldContainer[str]
    custom_streams: _containers.RepeatedScalarFieldContainer[str]
    detach: bool
    limits: ResourceLimits
    max_memory: int
    user: str
    group: str
    def __init__(self, name: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., cwd: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., autostart: bool = ..., autorestart: _Optional[_Union[RestartPolicy, str]] = ..., exitcodes: _Optional[_Iterable[int]] = ..., startsecs: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., startretries: _Optional[int] = ..., stop_signal: _Optional[str] = ..., stop_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., backoff: _Optional[_Union[BackoffSpec, _Mapping]] = ..., log: _Optional[_Union[LogSpec, _Mapping]] = ..., max_restarts: _Optional[int] = ..., restart_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., stdin: bool = ..., description: _Optional[str] = ..., readiness: _Optional[_Union[ProbeSpec, _Mapping]] = ..., liveness: _Optional[_Union[ProbeSpec, _Mapping]] = ..., depends_on: _Optional[_Mapping[str, DependencyCondition]] = ..., host: _Optional[str] = ..., redirect_output: _Optional[_Iterable[str]] = ..., custom_streams: _Optional[_Iterable[str]] = ..., detach: bool = ..., limits: _Optional[_Union[ResourceLimits, _Mapping]] = ..., max_memory: _Optional[int] = ..., user: _Optional[str] = ..., group: _Optional[str] = ...) -> None: ...

class ResourceLimits(_message.Message):
    __slots__ = ("memory", "cpu", "pids")
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    CPU_FIELD_NUMBER: _ClassVar[int]
    PIDS_FIELD_NUMBER: _ClassVar[int]
    memory: int
    cpu: float
    pids: int
    def __init__(self, memory: _Optional[int] = ..., cpu: _Optional[float] = ..., pids: _Optional[int] = ...) -> None: ...

class ProbeSpec(_message.Message):
    __slots__ = ("tcp", "exec", "log", "grpc", "period", "timeout", "initial_delay", "success_threshold", "failure_threshold", "start_timeout")
    TCP_FIELD_NUMBER: _ClassVar[int]
    EXEC_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    GRPC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    INITIAL_DELAY_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FAILURE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    START_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    tcp: str
    exec: ExecProbe
    log: LogProbe
    grpc: GrpcProbe
    period: _duration_pb2.Duration
    timeout: _duration_pb2.Duration
    initial_delay: _duration_pb2.Duration
    success_threshold: int
    failure_threshold: int
    start_timeout: _duration_pb2.Duration
    def __init__(self, tcp: _Optional[str] = ..., exec: _Optional[_Union[ExecProbe, _Mapping]] = ..., log: _Optional[_Union[LogProbe, _Mapping]] = ..., grpc: _Optional[_Union[GrpcProbe, _Mapping]] = ..., period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., initial_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., success_threshold: _Optional[int] = ..., failure_threshold: _Optional[int] = ..., start_timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExecProbe(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, command: _Optional[_Iterable[str]] = ...) -> None: ...

class LogProbe(_message.Message):
    __slots__ = ("pattern", "stream")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    stream: LogStream
    def __init__(self, pattern: _Optional[str] = ..., stream: _Optional[_Union[LogStream, str]] = ...) -> None: ...

class GrpcProbe(_message.Message):
    __slots__ = ("address", "service")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    address: str
    service: str
    def __init__(self, address: _Optional[str] = ..., service: _Optional[str] = ...) -> None: ...

class ProbeStatus(_message.Message):
    __slots__ = ("ok", "message", "time", "consecutive_successes", "consecutive_failures")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    time: _timestamp_pb2.Timestamp
    consecutive_successes: int
    consecutive_failures: int
    def __init__(self, ok: bool = ..., message: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consecutive_successes: _Optional[int] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class BackoffSpec(_message.Message):
    __slots__ = ("initial", "max", "multiplier", "reset_after")
    INITIAL_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    RESET_AFTER_FIELD_NUMBER: _ClassVar[int]
    initial: _duration_pb2.Duration
    max: _duration_pb2.Duration
    multiplier: float
    reset_after: _duration_pb2.Duration
    def __init__(self, initial: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., multiplier: _Optional[float] = ..., reset_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class LogSpec(_message.Message):
    __slots__ = ("max_bytes", "backups")
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    BACKUPS_FIELD_NUMBER: _ClassVar[int]
    max_bytes: int
    backups: int
    def __init__(self, max_bytes: _Optional[int] = ..., backups: _Optional[int] = ...) -> None: ...

class RunInfo(_message.Message):
    __slots__ = ("run_id", "pid", "pid_start_ticks", "started_at", "exited_at", "exit_code", "exit_signal", "spawn_error")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PID_START_TICKS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXITED_AT_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    EXIT_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    SPAWN_ERROR_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    pid: int
    pid_start_ticks: int
    started_at: _timestamp_pb2.Timestamp
    exited_at: _timestamp_pb2.Timestamp
    exit_code: int
    exit_signal: str
    spawn_error: str
    def __init__(self, run_id: _Optional[int] = ..., pid: _Optional[int] = ..., pid_start_ticks: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exit_code: _Optional[int] = ..., exit_signal: _Optional[str] = ..., spawn_error: _Optional[str] = ...) -> None: ...

class ProcessInfo(_message.Message):
    __slots__ = ("name", "state", "state_reason", "state_since", "run", "restarts", "start_attempts", "spec", "labels", "ready", "adhoc", "next_retry_at", "uptime", "readiness_probe", "liveness_probe", "host", "remote")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    START_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    ADHOC_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    READINESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    REMOTE_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: ProcessState
    state_reason: str
    state_since: _timestamp_pb2.Timestamp
    run: RunInfo
    restarts: int
    start_attempts: int
    spec: ProgramSpec
    labels: _containers.ScalarMap[str, str]
    ready: bool
    adhoc: bool
    next_retry_at: _timestamp_pb2.Timestamp
    uptime: _duration_pb2.Duration
    readiness_probe: ProbeStatus
    liveness_probe: ProbeStatus
    host: str
    remote: bool
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[ProcessState, str]] = ..., state_reason: _Optional[str] = ..., state_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run: _Optional[_Union[RunInfo, _Mapping]] = ..., restarts: _Optional[int] = ..., start_attempts: _Optional[int] = ..., spec: _Optional[_Union[ProgramSpec, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., ready: bool = ..., adhoc: bool = ..., next_retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., readiness_probe: _Optional[_Union[ProbeStatus, _Mapping]] = ..., liveness_probe: _Optional[_Union[ProbeStatus, _Mapping]] = ..., host: _Optional[str] = ..., remote: bool = ...) -> None: ...

class LabelSelector(_message.Message):
    __slots__ = ("match_labels", "names")
    class MatchLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MATCH_LABELS_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    match_labels: _containers.ScalarMap[str, str]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, match_labels: _Optional[_Mapping[str, str]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class ListProcessesRequest(_message.Message):
    __slots__ = ("selector", "view")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    selector: LabelSelector
    view: ProcessView
    def __init__(self, selector: _Optional[_Union[LabelSelector, _Mapping]] = ..., view: _Optional[_Union[ProcessView, str]] = ...) -> None: ...

class ListProcessesResponse(_message.Message):
    __slots__ = ("processes",)
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedCompositeFieldContainer[ProcessInfo]
    def __init__(self, processes: _Optional[_Iterable[_Union[ProcessInfo, _Mapping]]] = ...) -> None: ...

class GetProcessRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetProcessResponse(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ...) -> None: ...

class StartProcessRequest(_message.Message):
    __slots__ = ("name", "wait", "timeout")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    wait: StartWait
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., wait: _Optional[_Union[StartWait, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StartProcessResponse(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ...) -> None: ...

class StopProcessRequest(_message.Message):
    __slots__ = ("name", "wait", "timeout")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    wait: StopWait
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., wait: _Optional[_Union[StopWait, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StopProcessResponse(_message.Message):
    __slots__ = ("process", "survivors", "shutdown")
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SURVIVORS_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    survivors: _containers.RepeatedScalarFieldContainer[int]
    shutdown: ShutdownResult
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ..., survivors: _Optional[_Iterable[int]] = ..., shutdown: _Optional[_Union[ShutdownResult, _Mapping]] = ...) -> None: ...

class ShutdownResult(_message.Message):
    __slots__ = ("was_running", "pid", "how", "survivors")
    WAS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    HOW_FIELD_NUMBER: _ClassVar[int]
    SURVIVORS_FIELD_NUMBER: _ClassVar[int]
    was_running: bool
    pid: int
    how: ShutdownHow
    survivors: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, was_running: bool = ..., pid: _Optional[int] = ..., how: _Optional[_Union[ShutdownHow, str]] = ..., survivors: _Optional[_Iterable[int]] = ...) -> None: ...

class RestartProcessRequest(_message.Message):
    __slots__ = ("name", "wait", "timeout")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    wait: StartWait
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., wait: _Optional[_Union[StartWait, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RestartProcessResponse(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ...) -> None: ...

class SignalProcessRequest(_message.Message):
    __slots__ = ("name", "signal", "group")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    signal: str
    group: bool
    def __init__(self, name: _Optional[str] = ..., signal: _Optional[str] = ..., group: bool = ...) -> None: ...

class SignalProcessResponse(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ...) -> None: ...

class ProgramResult(_message.Message):
    __slots__ = ("name", "ok", "code", "error", "process", "note", "status", "shutdown")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_FIELD_NUMBER: _ClassVar[int]
    name: str
    ok: bool
    code: int
    error: str
    process: ProcessInfo
    note: str
    status: _status_pb2.Status
    shutdown: ShutdownResult
    def __init__(self, name: _Optional[str] = ..., ok: bool = ..., code: _Optional[int] = ..., error: _Optional[str] = ..., process: _Optional[_Union[ProcessInfo, _Mapping]] = ..., note: _Optional[str] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., shutdown: _Optional[_Union[ShutdownResult, _Mapping]] = ...) -> None: ...

class StartAllRequest(_message.Message):
    __slots__ = ("selector", "wait", "timeout", "view")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    selector: LabelSelector
    wait: StartWait
    timeout: _duration_pb2.Duration
    view: ProcessView
    def __init__(self, selector: _Optional[_Union[LabelSelector, _Mapping]] = ..., wait: _Optional[_Union[StartWait, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., view: _Optional[_Union[ProcessView, str]] = ...) -> None: ...

class StartAllResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ProgramResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ProgramResult, _Mapping]]] = ...) -> None: ...

class StopAllRequest(_message.Message):
    __slots__ = ("selector", "wait", "timeout", "sequential", "view")
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    selector: LabelSelector
    wait: StopWait
    timeout: _duration_pb2.Duration
    sequential: bool
    view: ProcessView
    def __init__(self, selector: _Optional[_Union[LabelSelector, _Mapping]] = ..., wait: _Optional[_Union[StopWait, str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., sequential: bool = ..., view: _Optional[_Union[ProcessView, str]] = ...) -> None: ...

class StopAllResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ProgramResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ProgramResult, _Mapping]]] = ...) -> None: ...

class ReadLogsRequest(_message.Message):
    __slots__ = ("name", "stream", "offset", "max_bytes", "tail_lines", "stream_name", "since")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    STREAM_NAME_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    stream: LogStream
    offset: int
    max_bytes: int
    tail_lines: int
    stream_name: str
    since: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., stream: _Optional[_Union[LogStream, str]] = ..., offset: _Optional[int] = ..., max_bytes: _Optional[int] = ..., tail_lines: _Optional[int] = ..., stream_name: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReadLogsResponse(_message.Message):
    __slots__ = ("chunk", "first_offset", "end_offset")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    FIRST_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    chunk: LogChunk
    first_offset: int
    end_offset: int
    def __init__(self, chunk: _Optional[_Union[LogChunk, _Mapping]] = ..., first_offset: _Optional[int] = ..., end_offset: _Optional[int] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("stream", "offset", "data", "time", "gaps", "stream_name", "program")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    STREAM_NAME_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    stream: LogStream
    offset: int
    data: bytes
    time: _timestamp_pb2.Timestamp
    gaps: _containers.RepeatedCompositeFieldContainer[LogGap]
    stream_name: str
    program: str
    def __init__(self, stream: _Optional[_Union[LogStream, str]] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gaps: _Optional[_Iterable[_Union[LogGap, _Mapping]]] = ..., stream_name: _Optional[str] = ..., program: _Optional[str] = ...) -> None: ...

class LogGap(_message.Message):
    __slots__ = ("stream", "from_offset", "to_offset", "reason", "stream_name")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    FROM_OFFSET_FIELD_NUMBER: _ClassVar[int]
    TO_OFFSET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STREAM_NAME_FIELD_NUMBER: _ClassVar[int]
    stream: LogStream
    from_offset: int
    to_offset: int
    reason: LogGapReason
    stream_name: str
    def __init__(self, stream: _Optional[_Union[LogStream, str]] = ..., from_offset: _Optional[int] = ..., to_offset: _Optional[int] = ..., reason: _Optional[_Union[LogGapReason, str]] = ..., stream_name: _Optional[str] = ...) -> None: ...

class FollowLogsRequest(_message.Message):
    __slots__ = ("name", "stream", "tail_lines", "offset", "stream_names", "all_programs", "since")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    STREAM_NAMES_FIELD_NUMBER: _ClassVar[int]
    ALL_PROGRAMS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    stream: LogStream
    tail_lines: int
    offset: int
    stream_names: _containers.RepeatedScalarFieldContainer[str]
    all_programs: bool
    since: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., stream: _Optional[_Union[LogStream, str]] = ..., tail_lines: _Optional[int] = ..., offset: _Optional[int] = ..., stream_names: _Optional[_Iterable[str]] = ..., all_programs: bool = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FollowLogsResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: LogChunk
    def __init__(self, chunk: _Optional[_Union[LogChunk, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("seq", "time", "program", "run_id", "state_changed", "process_exited", "spawn_failed", "process_started", "server", "probe_changed", "config_applied", "task_restored", "limit_exceeded")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROCESS_EXITED_FIELD_NUMBER: _ClassVar[int]
    SPAWN_FAILED_FIELD_NUMBER: _ClassVar[int]
    PROCESS_STARTED_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    PROBE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_APPLIED_FIELD_NUMBER: _ClassVar[int]
    TASK_RESTORED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_EXCEEDED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    time: _timestamp_pb2.Timestamp
    program: str
    run_id: int
    state_changed: StateChanged
    process_exited: ProcessExited
    spawn_failed: SpawnFailed
    process_started: ProcessStarted
    server: ServerEvent
    probe_changed: ProbeChanged
    config_applied: ConfigApplied
    task_restored: TaskRestored
    limit_exceeded: LimitExceeded
    def __init__(self, seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., program: _Optional[str] = ..., run_id: _Optional[int] = ..., state_changed: _Optional[_Union[StateChanged, _Mapping]] = ..., process_exited: _Optional[_Union[ProcessExited, _Mapping]] = ..., spawn_failed: _Optional[_Union[SpawnFailed, _Mapping]] = ..., process_started: _Optional[_Union[ProcessStarted, _Mapping]] = ..., server: _Optional[_Union[ServerEvent, _Mapping]] = ..., probe_changed: _Optional[_Union[ProbeChanged, _Mapping]] = ..., config_applied: _Optional[_Union[ConfigApplied, _Mapping]] = ..., task_restored: _Optional[_Union[TaskRestored, _Mapping]] = ..., limit_exceeded: _Optional[_Union[LimitExceeded, _Mapping]] = ...) -> None: ...

class LimitExceeded(_message.Message):
    __slots__ = ("limit", "limit_bytes", "observed_bytes", "oom_kills", "message")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    OOM_KILLS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    limit: str
    limit_bytes: int
    observed_bytes: int
    oom_kills: int
    message: str
    def __init__(self, limit: _Optional[str] = ..., limit_bytes: _Optional[int] = ..., observed_bytes: _Optional[int] = ..., oom_kills: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class TaskRestored(_message.Message):
    __slots__ = ("task", "type", "started", "message")
    TASK_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    task: str
    type: str
    started: bool
    message: str
    def __init__(self, task: _Optional[str] = ..., type: _Optional[str] = ..., started: bool = ..., message: _Optional[str] = ...) -> None: ...

class ProbeChanged(_message.Message):
    __slots__ = ("probe", "ok", "message")
    PROBE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    probe: str
    ok: bool
    message: str
    def __init__(self, probe: _Optional[str] = ..., ok: bool = ..., message: _Optional[str] = ...) -> None: ...

class ConfigApplied(_message.Message):
    __slots__ = ("diff",)
    DIFF_FIELD_NUMBER: _ClassVar[int]
    diff: ConfigDiff
    def __init__(self, diff: _Optional[_Union[ConfigDiff, _Mapping]] = ...) -> None: ...

class StateChanged(_message.Message):
    __slots__ = ("to", "reason")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    to: ProcessState
    reason: str
    def __init__(self, to: _Optional[_Union[ProcessState, str]] = ..., reason: _Optional[str] = ..., **kwargs) -> None: ...

class ProcessStarted(_message.Message):
    __slots__ = ("pid", "pid_start_ticks")
    PID_FIELD_NUMBER: _ClassVar[int]
    PID_START_TICKS_FIELD_NUMBER: _ClassVar[int]
    pid: int
    pid_start_ticks: int
    def __init__(self, pid: _Optional[int] = ..., pid_start_ticks: _Optional[int] = ...) -> None: ...

class ProcessExited(_message.Message):
    __slots__ = ("pid", "exit_code", "signal", "expected", "uptime", "reason", "stderr_tail", "limit")
    PID_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STDERR_TAIL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    pid: int
    exit_code: int
    signal: str
    expected: bool
    uptime: _duration_pb2.Duration
    reason: str
    stderr_tail: _containers.RepeatedScalarFieldContainer[str]
    limit: str
    def __init__(self, pid: _Optional[int] = ..., exit_code: _Optional[int] = ..., signal: _Optional[str] = ..., expected: bool = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reason: _Optional[str] = ..., stderr_tail: _Optional[_Iterable[str]] = ..., limit: _Optional[str] = ...) -> None: ...

class SpawnFailed(_message.Message):
    __slots__ = ("path", "errno", "message")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ERRNO_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    path: str
    errno: str
    message: str
    def __init__(self, path: _Optional[str] = ..., errno: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ServerEvent(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("after_seq", "live_only", "programs")
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PROGRAMS_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    live_only: bool
    programs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, after_seq: _Optional[int] = ..., live_only: bool = ..., programs: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event", "gap")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    event: Event
    gap: EventGap
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ..., gap: _Optional[_Union[EventGap, _Mapping]] = ...) -> None: ...

class EventGap(_message.Message):
    __slots__ = ("after_seq", "first_available_seq", "missed", "reason")
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    FIRST_AVAILABLE_SEQ_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    first_available_seq: int
    missed: int
    reason: _sequence_pb2.SequenceGapReason
    def __init__(self, after_seq: _Optional[int] = ..., first_available_seq: _Optional[int] = ..., missed: _Optional[int] = ..., reason: _Optional[_Union[_sequence_pb2.SequenceGapReason, str]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("version", "pid", "hostname", "home", "config_path", "listen", "started_at", "programs", "last_event_seq", "allow_adhoc", "containment")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    HOME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    LISTEN_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRAMS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQ_FIELD_NUMBER: _ClassVar[int]
    ALLOW_ADHOC_FIELD_NUMBER: _ClassVar[int]
    CONTAINMENT_FIELD_NUMBER: _ClassVar[int]
    version: str
    pid: int
    hostname: str
    home: str
    config_path: str
    listen: _containers.RepeatedScalarFieldContainer[str]
    started_at: _timestamp_pb2.Timestamp
    programs: int
    last_event_seq: int
    allow_adhoc: bool
    containment: Containment
    def __init__(self, version: _Optional[str] = ..., pid: _Optional[int] = ..., hostname: _Optional[str] = ..., home: _Optional[str] = ..., config_path: _Optional[str] = ..., listen: _Optional[_Iterable[str]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., programs: _Optional[int] = ..., last_event_seq: _Optional[int] = ..., allow_adhoc: bool = ..., containment: _Optional[_Union[Containment, _Mapping]] = ...) -> None: ...

class Containment(_message.Message):
    __slots__ = ("cgroups", "cgroup_mount", "cgroup_root", "mode", "controllers", "cgroup_kill", "description", "unavailable_controllers", "user_switching")
    class UnavailableControllersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CGROUPS_FIELD_NUMBER: _ClassVar[int]
    CGROUP_MOUNT_FIELD_NUMBER: _ClassVar[int]
    CGROUP_ROOT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CONTROLLERS_FIELD_NUMBER: _ClassVar[int]
    CGROUP_KILL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_CONTROLLERS_FIELD_NUMBER: _ClassVar[int]
    USER_SWITCHING_FIELD_NUMBER: _ClassVar[int]
    cgroups: bool
    cgroup_mount: str
    cgroup_root: str
    mode: str
    controllers: _containers.RepeatedScalarFieldContainer[str]
    cgroup_kill: bool
    description: str
    unavailable_controllers: _containers.ScalarMap[str, str]
    user_switching: bool
    def __init__(self, cgroups: bool = ..., cgroup_mount: _Optional[str] = ..., cgroup_root: _Optional[str] = ..., mode: _Optional[str] = ..., controllers: _Optional[_Iterable[str]] = ..., cgroup_kill: bool = ..., description: _Optional[str] = ..., unavailable_controllers: _Optional[_Mapping[str, str]] = ..., user_switching: bool = ...) -> None: ...

class ShutdownRequest(_message.Message):
    __slots__ = ("keep_processes",)
    KEEP_PROCESSES_FIELD_NUMBER: _ClassVar[int]
    keep_processes: bool
    def __init__(self, keep_processes: bool = ...) -> None: ...

class ShutdownResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WriteStdinRequest(_message.Message):
    __slots__ = ("name", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    data: bytes
    def __init__(self, name: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class WriteStdinResponse(_message.Message):
    __slots__ = ("bytes_written",)
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    bytes_written: int
    def __init__(self, bytes_written: _Optional[int] = ...) -> None: ...

class CloseStdinRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CloseStdinResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConfigDiff(_message.Message):
    __slots__ = ("added", "changed", "removed", "unchanged", "restarted", "changes")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    RESTARTED_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedScalarFieldContainer[str]
    changed: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    unchanged: _containers.RepeatedScalarFieldContainer[str]
    restarted: _containers.RepeatedScalarFieldContainer[str]
    changes: _containers.RepeatedCompositeFieldContainer[ProgramChange]
    def __init__(self, added: _Optional[_Iterable[str]] = ..., changed: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ..., unchanged: _Optional[_Iterable[str]] = ..., restarted: _Optional[_Iterable[str]] = ..., changes: _Optional[_Iterable[_Union[ProgramChange, _Mapping]]] = ...) -> None: ...

class ProgramChange(_message.Message):
    __slots__ = ("name", "fields", "needs_restart")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_RESTART_FIELD_NUMBER: _ClassVar[int]
    name: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    needs_restart: bool
    def __init__(self, name: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., needs_restart: bool = ...) -> None: ...

class ApplyConfigRequest(_message.Message):
    __slots__ = ("text", "path", "dry_run", "allow_empty")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ALLOW_EMPTY_FIELD_NUMBER: _ClassVar[int]
    text: str
    path: str
    dry_run: bool
    allow_empty: bool
    def __init__(self, text: _Optional[str] = ..., path: _Optional[str] = ..., dry_run: bool = ..., allow_empty: bool = ...) -> None: ...

class ApplyConfigResponse(_message.Message):
    __slots__ = ("diff", "dry_run")
    DIFF_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    diff: ConfigDiff
    dry_run: bool
    def __init__(self, diff: _Optional[_Union[ConfigDiff, _Mapping]] = ..., dry_run: bool = ...) -> None: ...

class ReloadConfigRequest(_message.Message):
    __slots__ = ("dry_run",)
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: bool = ...) -> None: ...

class ReloadConfigResponse(_message.Message):
    __slots__ = ("diff", "dry_run")
    DIFF_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    diff: ConfigDiff
    dry_run: bool
    def __init__(self, diff: _Optional[_Union[ConfigDiff, _Mapping]] = ..., dry_run: bool = ...) -> None: ...

class CreateProgramRequest(_message.Message):
    __slots__ = ("spec", "start")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    spec: ProgramSpec
    start: bool
    def __init__(self, spec: _Optional[_Union[ProgramSpec, _Mapping]] = ..., start: bool = ...) -> None: ...

class CreateProgramResponse(_message.Message):
    __slots__ = ("process",)
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    process: ProcessInfo
    def __init__(self, process: _Optional[_Union[ProcessInfo, _Mapping]] = ...) -> None: ...

class DeleteProgramRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteProgramResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
