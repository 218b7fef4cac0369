"""Errors as grpc.RpcError subclasses, as grpcio users expect: code(), details(),
trailing_metadata(), plus the daemon's typed details (google.rpc.Status from the
grpc-status-details-bin trailer): reason, error_info, bad_request, precondition_failure,
resource_info. One subclass per status code (NotFound, FailedPrecondition, ...), with
LockRefused and TaskFailed beneath FailedPrecondition."""
from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Optional, Sequence, Tuple, Type, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "corral.dev"

Metadata = Tuple[Tuple[str, "str | bytes"], ...]
M = TypeVar("M", bound=Message)


def _unpack(status: Optional[status_pb2.Status], kind: Type[M]) -> Optional[M]:
    if status is None:
        return None
    for any_ in status.details:
        if any_.Is(kind.DESCRIPTOR):
            message = kind()
            any_.Unpack(message)
            return message
    return None


def status_from_metadata(metadata: Optional[Sequence[Tuple[str, "str | bytes"]]]) -> Optional[status_pb2.Status]:
    """The google.rpc.Status in trailing metadata, or None."""
    for key, value in metadata or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


class Diagnosis(NamedTuple):
    """What a client's probe found when a call could not reach the daemon (_connection.py)."""

    problem: str
    message: str


# Probes the connection of a client; None when it finds nothing wrong.
Diagnose = Callable[[], Optional[Diagnosis]]


class CorralError(grpc.RpcError):
    """A call failed. code() is the grpc.StatusCode, details() the daemon's message (it names
    the field, value and rule for bad input), trailing_metadata() the trailer, `method` the RPC.
    `reason` is ErrorInfo.reason (a stable word: PROGRAM_NOT_FOUND, TASK_LOCKED, ...; README
    lists them), `metadata` its facts; bad_request, precondition_failure and resource_info the
    other typed details (None when not sent). `connection_problem` names why the daemon could
    not be reached (UNAVAILABLE only: SOCKET_MISSING, TLS_SERVER_NAME, ...; README "When a client
    cannot connect"; "" when the client's probe found nothing wrong); details() is then that
    problem's message and `transport_details` what grpcio said."""

    grpc_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    connection_problem: str = ""
    transport_details: str = ""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        method: str = "",
        trailing_metadata: Metadata = (),
        status: Optional[status_pb2.Status] = None,
    ) -> None:
        super().__init__(f"{method + ': ' if method else ''}{code.name}: {details}")
        self._code = code
        self._details = details
        self._trailing_metadata = trailing_metadata
        self.method = method
        self.status = status if status is not None else status_from_metadata(trailing_metadata)
        self.error_info: Optional[error_details_pb2.ErrorInfo] = _unpack(self.status, error_details_pb2.ErrorInfo)
        self.bad_request: Optional[error_details_pb2.BadRequest] = _unpack(self.status, error_details_pb2.BadRequest)
        self.precondition_failure: Optional[error_details_pb2.PreconditionFailure] = _unpack(self.status, error_details_pb2.PreconditionFailure)
        self.resource_info: Optional[error_details_pb2.ResourceInfo] = _unpack(self.status, error_details_pb2.ResourceInfo)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    # grpcio's own calls return _Metadatum objects (key, value); these are plain (key, value)
    # pairs, which unpack the same way, so the narrower stub type does not fit.
    def trailing_metadata(self) -> Metadata:  # type: ignore[override]
        return self._trailing_metadata

    @property
    def reason(self) -> str:
        """ErrorInfo.reason, or "" when the daemon sent none."""
        return self.error_info.reason if self.error_info is not None else ""

    @property
    def metadata(self) -> Dict[str, str]:
        """ErrorInfo.metadata (e.g. {"program": "web", "exit_code": "3"})."""
        return dict(self.error_info.metadata) if self.error_info is not None else {}


class Cancelled(CorralError):
    grpc_code = grpc.StatusCode.CANCELLED


class Unknown(CorralError):
    grpc_code = grpc.StatusCode.UNKNOWN


class InvalidArgument(CorralError):
    """Bad input: bad_request.field_violations names each field, value and rule."""

    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(CorralError):
    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(CorralError):
    """No such program, task, task type, run or pid; resource_info says which."""

    grpc_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(CorralError):
    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(CorralError):
    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(CorralError):
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(CorralError):
    """The call does not fit the current state (already running, FATAL, locked...): `reason`
    says which, precondition_failure what about."""

    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(CorralError):
    grpc_code = grpc.StatusCode.ABORTED


class OutOfRange(CorralError):
    grpc_code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(CorralError):
    grpc_code = grpc.StatusCode.UNIMPLEMENTED


class Internal(CorralError):
    grpc_code = grpc.StatusCode.INTERNAL


class Unavailable(CorralError):
    """The daemon cannot be reached (or is shutting down); the message says why."""

    grpc_code = grpc.StatusCode.UNAVAILABLE


class DataLoss(CorralError):
    grpc_code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(CorralError):
    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class LockRefused(FailedPrecondition):
    """The task is locked by another client (reason TASK_LOCKED or LOCK_NOT_HOLDER), or a
    Lock was not granted in time."""

    def __init__(
        self,
        task: str,
        method: str = "Lock",
        details: str = "",
        trailing_metadata: Metadata = (),
        status: Optional[status_pb2.Status] = None,
    ) -> None:
        super().__init__(
            grpc.StatusCode.FAILED_PRECONDITION, details or f"task {task!r} is locked by another client", method, trailing_metadata, status
        )
        self.task = task


class TaskFailed(FailedPrecondition):
    """join() of a task that FAILED (QMI's join re-raises the task's exception). `task_message`
    and `task_stack` are the task's own error; `task` is the whole outcome (a TaskInfo)."""

    def __init__(self, task: object) -> None:
        error = getattr(task, "error", None)
        self.task = task
        self.task_message: str = getattr(error, "message", "") if error is not None else ""
        self.task_stack: str = getattr(error, "stack", "") if error is not None else ""
        super().__init__(grpc.StatusCode.FAILED_PRECONDITION, f"task {getattr(task, 'name', '?')!r} failed: {self.task_message}", "JoinTask")

    def __str__(self) -> str:
        return f"task {getattr(self.task, 'name', '?')!r} failed: {self.task_message}\n{self.task_stack}"


_BY_CODE: Dict[grpc.StatusCode, Type[CorralError]] = {
    cls.grpc_code: cls
    for cls in (
        Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists, PermissionDenied, ResourceExhausted,
        FailedPrecondition, Aborted, OutOfRange, Unimplemented, Internal, Unavailable, DataLoss, Unauthenticated,
    )
}
_LOCK_REASONS = ("TASK_LOCKED", "LOCK_NOT_HOLDER")


def error_for(code: grpc.StatusCode, details: str, method: str = "", trailing_metadata: Metadata = ()) -> CorralError:
    """The CorralError subclass for this code (LockRefused for a lock refusal)."""
    status = status_from_metadata(trailing_metadata)
    info = _unpack(status, error_details_pb2.ErrorInfo)
    if info is not None and info.reason in _LOCK_REASONS:
        return LockRefused(info.metadata.get("task", ""), method, details, trailing_metadata, status)
    cls = _BY_CODE.get(code, CorralError)
    return cls(code, details, method, trailing_metadata, status)


def from_rpc_error(error: grpc.RpcError, method: str = "", diagnose: Optional[Diagnose] = None) -> CorralError:
    """The CorralError of a grpcio error; an UNAVAILABLE one names the problem `diagnose` finds."""
    if isinstance(error, CorralError):
        return error
    code = getattr(error, "code", None)
    if callable(code):  # grpc.Call and grpc.aio.AioRpcError alike
        details = getattr(error, "details")() or ""
        status_code: grpc.StatusCode = code()
        trailing = _pairs(getattr(error, "trailing_metadata")())
        # A failure the daemon itself sent (with a google.rpc.Status) means it was reached: no probe.
        reached = status_from_metadata(trailing) is not None
        found = diagnose() if diagnose is not None and status_code == grpc.StatusCode.UNAVAILABLE and not reached else None
        if found is not None:
            return with_diagnosis(error_for(status_code, found.message, method, trailing), found, details)
        return error_for(status_code, details, method, trailing)
    return error_for(grpc.StatusCode.UNKNOWN, str(error), method)


def with_diagnosis(error: CorralError, found: Diagnosis, transport_details: str) -> CorralError:
    error.connection_problem = found.problem
    error.transport_details = transport_details
    return error


def _pairs(metadata: object) -> Metadata:
    """grpcio's metadata (tuples of _Metadatum, plain pairs, or grpc.aio.Metadata) as pairs."""
    pairs = []
    for item in metadata or ():  # type: ignore[attr-defined]
        key, value = (item.key, item.value) if hasattr(item, "key") else item
        pairs.append((str(key), value))
    return tuple(pairs)
