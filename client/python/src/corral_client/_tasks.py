"""A task handle that keeps its lock token and sends it on every driving call."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

import grpc

from ._errors import CorralError, LockRefused, TaskFailed
from ._stream import Stream
from ._values import Json, from_value, to_value
from .v1 import task_runner_pb2 as tr

if TYPE_CHECKING:
    from ._client import Client, _Stub


class TaskHandle:
    """One task by name. After lock() every driving call (start, stop, join, settings,
    methods, remove) carries the token; as a context manager (`with task.lock(): ...`) the
    lock is released on exit."""

    def __init__(self, client: "Client", name: str, token: str = "") -> None:
        self._client = client
        self.name = name
        self.token = token

    def __repr__(self) -> str:
        return f"TaskHandle({self.name!r}, locked={bool(self.token)})"

    @property
    def _tr(self) -> "_Stub":  # the error-converting TaskRunner stub
        return self._client.task_runner

    def info(self, deadline: Optional[float] = None) -> tr.TaskInfo:
        response: tr.GetTaskResponse = self._tr.GetTask(tr.GetTaskRequest(name=self.name), timeout=deadline)
        return response.task

    def start(self, deadline: Optional[float] = None) -> tr.TaskInfo:
        """Starts the task. A second start raises CorralError FAILED_PRECONDITION with
        reason TASK_ALREADY_STARTED (a lock held by another: TASK_LOCKED)."""
        response: tr.StartTaskResponse = self._tr.StartTask(tr.StartTaskRequest(name=self.name, token=self.token), timeout=deadline)
        return response.task

    def try_start(self, deadline: Optional[float] = None) -> bool:
        """Starts the task; False (no exception) when it had already been started."""
        try:
            self.start(deadline)
            return True
        except CorralError as error:
            if error.reason == "TASK_ALREADY_STARTED":
                return False
            raise

    def stop(self, deadline: Optional[float] = None) -> tr.TaskInfo:
        response: tr.StopTaskResponse = self._tr.StopTask(tr.StopTaskRequest(name=self.name, token=self.token), timeout=deadline)
        return response.task

    def join(self, timeout: Optional[float] = None, deadline: Optional[float] = None) -> tr.TaskInfo:
        """Waits until the task finished (DEADLINE_EXCEEDED after `timeout` seconds) and returns
        its outcome; a FAILED task raises TaskFailed (as QMI's join re-raises), whose `task` is
        the outcome. outcome() returns a FAILED outcome instead."""
        task = self.outcome(timeout, deadline)
        if task.state == tr.TASK_STATE_FAILED:
            raise TaskFailed(task)
        return task

    def outcome(self, timeout: Optional[float] = None, deadline: Optional[float] = None) -> tr.TaskInfo:
        """Like join(), but a FAILED task is returned, not raised."""
        request = tr.JoinTaskRequest(name=self.name, token=self.token)
        if timeout is not None:
            request.timeout.FromNanoseconds(int(timeout * 1e9))
            deadline = deadline if deadline is not None else timeout + 10
        response: tr.JoinTaskResponse = self._tr.JoinTask(request, timeout=deadline)
        return response.task

    def remove(self, timeout: Optional[float] = None) -> tr.TaskInfo:
        request = tr.RemoveTaskRequest(name=self.name, token=self.token)
        if timeout is not None:
            request.timeout.FromNanoseconds(int(timeout * 1e9))
        response: tr.RemoveTaskResponse = self._tr.RemoveTask(request, timeout=None if timeout is None else timeout + 10)
        return response.task

    def set_settings(self, settings: Json) -> None:
        """Stores pending settings; the task takes them when it next calls updateSettings."""
        self._tr.SetSettings(tr.SetSettingsRequest(name=self.name, settings=to_value(settings), token=self.token))

    def settings(self) -> Json:
        return from_value(self._tr.GetSettings(tr.GetSettingsRequest(name=self.name)).settings)

    def pending_settings(self) -> Optional[Json]:
        response = self._tr.GetPendingSettings(tr.GetPendingSettingsRequest(name=self.name))
        return from_value(response.settings) if response.pending else None

    def status(self) -> Json:
        return from_value(self._tr.GetStatus(tr.GetStatusRequest(name=self.name)).status)

    def call(self, method: str, args: Json = None) -> Json:
        request = tr.CallMethodRequest(name=self.name, method=method, token=self.token)
        if args is not None:
            request.args.CopyFrom(to_value(args))
        return from_value(self._tr.CallMethod(request).result)

    def try_lock(self, timeout: Optional[float] = None, lease: Optional[float] = None, token: Optional[str] = None) -> bool:
        """Locks (waiting up to `timeout` seconds while another client holds it); keeps the
        token. Locking again renews a lease. False when not granted."""
        request = tr.LockRequest(name=self.name, token=token if token is not None else self.token)
        if timeout is not None:
            request.timeout.FromNanoseconds(int(timeout * 1e9))
        if lease is not None:
            request.lease.FromNanoseconds(int(lease * 1e9))
        response: tr.LockResponse = self._tr.Lock(request, timeout=None if timeout is None else timeout + 10)
        if response.granted:
            self.token = response.token
        return response.granted

    def lock(self, timeout: Optional[float] = None, lease: Optional[float] = None, token: Optional[str] = None) -> "TaskHandle":
        """Like try_lock, but raises LockRefused when not granted; returns the handle, so
        `with task.lock(): ...` unlocks at the end of the block."""
        if not self.try_lock(timeout=timeout, lease=lease, token=token):
            raise LockRefused(self.name)
        return self

    def unlock(self) -> bool:
        """Releases the lock: True when released; False when it was not locked or another
        token holds it (QMI's answer; unlock_outcome() says which)."""
        return self.unlock_outcome() == "unlocked"

    def unlock_outcome(self) -> str:
        """"unlocked", "not_locked" or "not_holder" (the daemon answers a non-holder
        FAILED_PRECONDITION with reason LOCK_NOT_HOLDER)."""
        if not self.token:
            return "not_holder" if self.is_locked() else "not_locked"
        try:
            unlocked = self._tr.Unlock(tr.UnlockRequest(name=self.name, token=self.token)).unlocked
        except CorralError as error:
            if error.code() == grpc.StatusCode.FAILED_PRECONDITION and error.reason == "LOCK_NOT_HOLDER":
                return "not_holder"
            raise
        self.token = ""
        return "unlocked" if unlocked else "not_locked"

    def force_unlock(self) -> bool:
        """Releases the lock whoever holds it (an operator's escape hatch); returns whether it
        was locked."""
        was_locked: bool = self._tr.ForceUnlock(tr.ForceUnlockRequest(name=self.name)).was_locked
        self.token = ""
        return was_locked

    def is_locked(self) -> bool:
        response: tr.IsLockedResponse = self._tr.IsLocked(tr.IsLockedRequest(name=self.name))
        return response.locked

    def watch(self, names: Sequence[str] = (), after_seq: int = 0, live_only: bool = False) -> Stream[tr.WatchSignalsResponse]:
        """This task's signals (lifecycle, settings_updated, status_updated, custom ones)."""
        return self._client.watch_signals(tasks=[self.name], names=names, after_seq=after_seq, live_only=live_only)

    def __enter__(self) -> "TaskHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.token:
            self.unlock()
