"""Errors as exceptions that carry the gRPC status code, like the TS client's ClientError."""
from __future__ import annotations

from typing import Optional

import grpc


class CorralError(Exception):
    """A call failed. `code` is the grpc.StatusCode (NOT_FOUND, INVALID_ARGUMENT,
    FAILED_PRECONDITION, DEADLINE_EXCEEDED, UNAVAILABLE, ...), `details` the daemon's message
    (it names the field, value and rule for bad input), `method` the RPC."""

    def __init__(self, code: grpc.StatusCode, details: str, method: str = "") -> None:
        super().__init__(f"{method + ': ' if method else ''}{code.name}: {details}")
        self.code = code
        self.details = details
        self.method = method


class LockRefused(CorralError):
    """Lock was not granted: another client holds the task's lock."""

    def __init__(self, task: str, method: str = "Lock") -> None:
        super().__init__(grpc.StatusCode.FAILED_PRECONDITION, f"task {task!r} is locked by another client", method)
        self.task = task


def from_rpc_error(error: grpc.RpcError, method: str = "") -> CorralError:
    code: Optional[grpc.StatusCode] = error.code() if isinstance(error, grpc.Call) else None
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    return CorralError(code or grpc.StatusCode.UNKNOWN, details or "", method)
