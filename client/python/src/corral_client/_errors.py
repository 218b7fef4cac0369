"""Errors as exceptions that carry the gRPC status code, like the TS client's ClientError."""
from __future__ import annotations

from typing import Optional

import grpc


class CorralError(Exception):
    """A call failed. `code` is the grpc.StatusCode (NOT_FOUND, INVALID_ARGUMENT,
    FAILED_PRECONDITION, DEADLINE_EXCEEDED, UNAVAILABLE, ...), `details` the daemon's message
    (it names the field, value and rule for bad input), `method` the RPC."""

    def __init__(self, code: grpc.StatusCode, details: str, method: str = "", reason: str = "") -> None:
        super().__init__(f"{method + ': ' if method else ''}{code.name}: {details}")
        self.code = code
        self.details = details
        self.method = method
        # Why a FAILED_PRECONDITION refused (the daemon's corral-reason trailer): "task_locked",
        # "lock_not_holder", "task_already_started", or "".
        self.reason = reason


class TaskFailed(CorralError):
    """join() of a task that FAILED (QMI's join re-raises the task's exception). `task_message`
    and `task_stack` are the task's own error; `task` is the whole outcome (a TaskInfo)."""

    def __init__(self, task: object) -> None:
        error = getattr(task, "error", None)
        self.task = task
        self.task_message: str = getattr(error, "message", "") if error is not None else ""
        self.task_stack: str = getattr(error, "stack", "") if error is not None else ""
        super().__init__(grpc.StatusCode.OK, f"task {getattr(task, 'name', '?')!r} failed: {self.task_message}", "JoinTask")

    def __str__(self) -> str:
        return f"task {getattr(self.task, 'name', '?')!r} failed: {self.task_message}\n{self.task_stack}"


class LockRefused(CorralError):
    """Lock was not granted: another client holds the task's lock."""

    def __init__(self, task: str, method: str = "Lock") -> None:
        super().__init__(grpc.StatusCode.FAILED_PRECONDITION, f"task {task!r} is locked by another client", method)
        self.task = task


def from_rpc_error(error: grpc.RpcError, method: str = "") -> CorralError:
    code: Optional[grpc.StatusCode] = error.code() if isinstance(error, grpc.Call) else None
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    reason = ""
    if isinstance(error, grpc.Call):
        for key, value in error.trailing_metadata() or ():
            if key == "corral-reason":
                reason = value if isinstance(value, str) else value.decode()
    return CorralError(code or grpc.StatusCode.UNKNOWN, details or "", method, reason)
