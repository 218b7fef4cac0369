"""CGSE's egse.process helpers with their names and arguments, answered by a corral daemon
(FindProcesses, ListZombies): `from corral_client.cgse import is_process_running`. Each takes
an optional `client` (default: connect() to the default daemon, closed after the call)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List, Optional, Sequence, Union

from ._client import Client, ProcessDict, connect

Items = Union[str, Sequence[str]]


@contextmanager
def _client(client: Optional[Client]) -> Iterator[Client]:
    if client is not None:
        yield client
        return
    with connect() as own:
        yield own


def _need_items(items: Items) -> None:
    # CGSE refuses to match nothing (it would match every process) with a ValueError.
    if not items:
        raise ValueError("You need to provide at least one item to check.")


def is_process_running(items: Items, contains: bool = True, case_sensitive: bool = False, as_list: bool = False, client: Optional[Client] = None) -> Union[bool, List[int]]:
    """True if a process whose command line matches every item runs (as_list: their pids)."""
    _need_items(items)
    with _client(client) as c:
        return c.is_process_running(items, contains=contains, case_sensitive=case_sensitive, as_list=as_list)


def get_process_info(items: Items, contains: bool = True, case_sensitive: bool = False, client: Optional[Client] = None) -> List[ProcessDict]:
    """One dict per matching process: pid, ppid, name, cmdline, state, uid, create_time, program."""
    _need_items(items)
    with _client(client) as c:
        return c.get_process_info(items, contains=contains, case_sensitive=case_sensitive)


def list_processes(
    items: Items, contains: bool = True, case_sensitive: bool = False, verbose: bool = False, client: Optional[Client] = None
) -> List[ProcessDict]:
    """CGSE's list_processes: one dict per host process matching the items, with CGSE's keys:
    pid, status (psutil's word: "sleeping", "running"...) and cmdline (one string); verbose
    also prints them, one per line. As in CGSE, no items raises ValueError."""
    _need_items(items)
    with _client(client) as c:
        listed = c.list_host_processes(items, contains=contains, case_sensitive=case_sensitive)
    if verbose:
        for p in listed:
            print(f"{p['pid']:6d} {p['status']:>10s} {p['cmdline']}")
    return listed


def list_zombies(client: Optional[Client] = None) -> List[ProcessDict]:
    """One dict per zombie process of the host: pid, ppid, name, cmdline, program, parent_is_daemon."""
    with _client(client) as c:
        return [
            {"pid": z.pid, "ppid": z.ppid, "name": z.name, "cmdline": list(z.cmdline), "program": z.program, "parent_is_daemon": z.parent_is_daemon}
            for z in c.list_zombies()
        ]
