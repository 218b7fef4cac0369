"""Several hosts, one client: Hosts knows each host's daemon, routes a program to the daemon
that owns it (the one whose ListProcesses lists it as its own, not remote), and fans calls out
to every host with a per-host deadline, so one unreachable host is reported (HostUnreachable,
"host lab2 unreachable: ...") while the others still answer."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar, Union

import grpc

from ._client import Client, StopResult, connect
from ._errors import CorralError, FailedPrecondition, NotFound, Unavailable
from .v1 import process_manager_pb2 as pm

T = TypeVar("T")

#: How long a host may take to answer a fan-out call before it counts as unreachable (seconds).
DEFAULT_HOST_DEADLINE = 5.0

#: A host given as its address, or as a mapping with "address" and further connect() keyword
#: arguments (e.g. "options"; TLS and token settings as connect() takes them).
HostSpec = Union[str, Mapping[str, Any]]


class HostUnreachable(Unavailable):
    """A host did not answer: refused, reset, or silent past the per-host deadline (`why`)."""

    def __init__(self, host: str, why: str) -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, f"host {host} unreachable: {why}")
        self.host = host
        self.why = why

    def __str__(self) -> str:
        return self.details()


def _is_unreachable(error: CorralError) -> bool:
    return error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class Hosts:
    """Daemons by host name. Connections are made on first use; close() (or `with`) ends them.

        with corral_client.Hosts({"lab1": "10.0.0.1:7070", "lab2": "10.0.0.2:7070"}) as hosts:
            hosts.start("api")                      # on whichever host runs api
            for host, answer in hosts.list_processes().items(): ...
    """

    def __init__(self, hosts: Mapping[str, HostSpec], deadline: float = DEFAULT_HOST_DEADLINE,
                 connect_host: Optional[Callable[[str, HostSpec], Client]] = None) -> None:
        if not hosts:
            raise ValueError("Hosts needs at least one host")
        self.names: List[str] = list(hosts)
        self.deadline = deadline
        self._specs = dict(hosts)
        self._clients: Dict[str, Client] = {}
        self._owners: Dict[str, str] = {}
        self._connect = connect_host or _connect_spec

    def client(self, host: str) -> Client:
        """The host's client, connected on first use."""
        if host not in self._specs:
            raise KeyError(f"unknown host {host!r} (hosts: {', '.join(self.names)})")
        if host not in self._clients:
            self._clients[host] = self._connect(host, self._specs[host])
        return self._clients[host]

    def on_each_host(self, call: Callable[[Client, float], T], hosts: Optional[List[str]] = None) -> Dict[str, Union[T, CorralError]]:
        """Runs call(client, deadline_seconds) on every host at once; each host's value, or its
        error (HostUnreachable when it did not answer). Never raises for one host's failure."""
        targets = hosts if hosts is not None else self.names

        def one(host: str) -> Union[T, CorralError]:
            try:
                return call(self.client(host), self.deadline)
            except CorralError as error:
                if _is_unreachable(error):
                    reason = f"no answer within {self.deadline:g} s" if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED else error.details()
                    return HostUnreachable(host, reason)
                return error

        with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
            return dict(zip(targets, pool.map(one, targets)))

    def list_processes(self) -> Dict[str, Union[List[pm.ProcessInfo], CorralError]]:
        """Every host's own programs (a daemon also lists other hosts' programs as remote: left out)."""
        def own(client: Client, deadline: float) -> List[pm.ProcessInfo]:
            response = client.process_manager.ListProcesses(pm.ListProcessesRequest(), timeout=deadline)
            return [p for p in response.processes if not p.remote]

        return self.on_each_host(own)

    def owners(self, program: str) -> List[str]:
        """The hosts whose daemon runs `program` as its own (a program without host: every host)."""
        def owns(client: Client, deadline: float) -> bool:
            try:
                info = client.process_manager.GetProcess(pm.GetProcessRequest(name=program), timeout=deadline).process
            except CorralError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            return not info.remote

        answers = self.on_each_host(owns)
        found = [host for host, answer in answers.items() if answer is True]
        if found:
            return found
        for answer in answers.values():
            if isinstance(answer, CorralError):
                raise answer  # it may be on the host that could not be asked
        raise NotFound(grpc.StatusCode.NOT_FOUND, f"no host ({', '.join(self.names)}) runs a program named {program!r}")

    def owner(self, program: str) -> str:
        """The one host that runs `program` (remembered); CorralError if several do or none does."""
        if program not in self._owners:
            hosts = self.owners(program)
            if len(hosts) > 1:
                raise FailedPrecondition(grpc.StatusCode.FAILED_PRECONDITION, f"{program!r} runs on several hosts ({', '.join(hosts)}): use client(host)")
            self._owners[program] = hosts[0]
        return self._owners[program]

    def _on_owner(self, program: str, act: Callable[[Client], T]) -> T:
        host = self.owner(program)
        try:
            return act(self.client(host))
        except CorralError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                raise HostUnreachable(host, error.details()) from None
            raise

    def status(self, program: str) -> pm.ProcessInfo:
        return self._on_owner(program, lambda client: client.status(program, deadline=self.deadline))

    def start(self, program: str, **kw: Any) -> pm.ProcessInfo:
        return self._on_owner(program, lambda client: client.start(program, **kw))

    def stop(self, program: str, **kw: Any) -> StopResult:
        return self._on_owner(program, lambda client: client.stop(program, **kw))

    def restart(self, program: str, **kw: Any) -> pm.ProcessInfo:
        return self._on_owner(program, lambda client: client.restart(program, **kw))

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> "Hosts":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect_spec(host: str, spec: HostSpec) -> Client:
    if isinstance(spec, str):
        return connect(spec)
    kwargs = dict(spec)
    address = kwargs.pop("address", None)
    if not address:
        raise ValueError(f"host {host!r}: no address")
    return connect(address, **kwargs)
