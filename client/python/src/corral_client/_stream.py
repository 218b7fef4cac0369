"""Server streams as iterators: iterate, and cancel (or leave the `with` block) to end."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, Optional, TypeVar

import grpc

from ._errors import Diagnose, from_rpc_error

T = TypeVar("T")


class Stream(Generic[T]):
    """One server-streaming call. Iterating yields responses; errors raise CorralError;
    after cancel() (or leaving `with`) iteration just ends."""

    def __init__(self, call: Any, method: str, diagnose: Optional[Diagnose] = None) -> None:
        self._call = call
        self._method = method
        self._diagnose = diagnose
        self._cancelled = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        try:
            item: T = next(self._call)
            return item
        except grpc.RpcError as error:
            if self._cancelled and isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.CANCELLED:
                raise StopIteration from None
            raise from_rpc_error(error, self._method, self._diagnose) from None

    def cancel(self) -> None:
        self._cancelled = True
        self._call.cancel()

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()
