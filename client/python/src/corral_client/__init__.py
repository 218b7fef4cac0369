"""Python client for the corral daemon.

    import corral_client
    with corral_client.connect() as corral:
        print(corral.status("web").state == corral_client.ProcessState.PROCESS_STATE_RUNNING)

Generated messages and stubs live in corral_client.v1 (process_manager_pb2, task_runner_pb2,
process_monitor_pb2 and their _grpc modules); this package adds connect(), typed methods,
streams as iterators, CorralError (with the gRPC code) and TaskHandle (keeps the lock token).
"""
from ._address import default_home, resolve_address, socket_path
from ._client import Client, connect
from ._credentials import TlsOptions
from ._errors import CorralError, LockRefused, TaskFailed
from ._hosts import HostUnreachable, Hosts
from ._stream import Stream
from ._tasks import TaskHandle
from ._values import Json, from_value, to_value
from .v1 import process_manager_pb2, process_monitor_pb2, task_runner_pb2
from .v1.process_manager_pb2 import LogStream, ProcessState, StartWait, StopWait
from .v1.process_monitor_pb2 import MonitoredOutcome, TimeoutKind
from .v1.task_runner_pb2 import TaskState

__all__ = [
    "Client", "CorralError", "HostUnreachable", "Hosts", "Json", "LockRefused", "LogStream", "MonitoredOutcome", "ProcessState",
    "StartWait", "StopWait", "Stream", "TaskFailed", "TaskHandle", "TaskState", "TimeoutKind", "TlsOptions", "connect",
    "default_home", "from_value", "process_manager_pb2", "process_monitor_pb2",
    "resolve_address", "socket_path", "task_runner_pb2", "to_value",
]
