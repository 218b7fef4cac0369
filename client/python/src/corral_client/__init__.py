"""Python client for the corral daemon.

    import corral_client
    with corral_client.connect() as corral:
        print(corral.status("web").state == corral_client.ProcessState.PROCESS_STATE_RUNNING)

Generated messages and stubs live in corral_client.v1 (process_manager_pb2, task_runner_pb2,
process_monitor_pb2 and their _grpc modules); this package adds connect(), typed methods,
streams as iterators, CorralError (a grpc.RpcError with code(), details(), trailing_metadata()
and the daemon's typed error details; one subclass per code) and TaskHandle (keeps the lock
token). corral_client.aio has the same API on grpc.aio.
"""
from ._address import default_home, resolve_address, socket_path
from ._client import Client, StopResult, connect
from ._credentials import TlsOptions
from ._connection import PROBE_TIMEOUT, diagnose_connection
from . import aio
from ._errors import (
    ERROR_DOMAIN, Aborted, AlreadyExists, Cancelled, CorralError, DataLoss, Diagnosis, DeadlineExceeded, FailedPrecondition, Internal,
    InvalidArgument, LockRefused, NotFound, OutOfRange, PermissionDenied, ResourceExhausted, TaskFailed, Unauthenticated,
    Unavailable, Unimplemented, Unknown, status_from_metadata,
)
from ._hosts import HostUnreachable, Hosts
from ._stream import Stream
from ._tasks import TaskHandle
from ._values import Json, from_value, to_value
from .v1 import process_manager_pb2, process_monitor_pb2, sequence_pb2, task_runner_pb2
from .v1.process_manager_pb2 import LogStream, ProcessState, ShutdownHow, StartWait, StopWait
from .v1.process_monitor_pb2 import MonitoredOutcome, TimeoutKind
from .v1.sequence_pb2 import SequenceGapReason
from .v1.task_runner_pb2 import TaskState

__all__ = [
    "ERROR_DOMAIN", "Aborted", "AlreadyExists", "Cancelled", "DataLoss", "DeadlineExceeded", "FailedPrecondition", "Internal",
    "InvalidArgument", "NotFound", "OutOfRange", "PermissionDenied", "ResourceExhausted", "TaskFailed", "Unauthenticated",
    "Unavailable", "Unimplemented", "Unknown", "aio", "status_from_metadata",
    "Diagnosis", "PROBE_TIMEOUT", "diagnose_connection",
    "Client", "CorralError", "HostUnreachable", "Hosts", "Json", "LockRefused", "LogStream", "MonitoredOutcome", "ProcessState", "ShutdownHow", "StopResult",
    "SequenceGapReason", "StartWait", "StopWait", "Stream", "TaskFailed", "TaskHandle", "TaskState", "TimeoutKind", "TlsOptions", "connect",
    "default_home", "from_value", "process_manager_pb2", "process_monitor_pb2",
    "resolve_address", "sequence_pb2", "socket_path", "task_runner_pb2", "to_value",
]
