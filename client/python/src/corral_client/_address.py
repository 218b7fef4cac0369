"""Where the daemon is: the same rules as the TS client and the CLI (client/ts/index.ts)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional


def default_home(env: Optional[Mapping[str, str]] = None) -> str:
    """The daemon's home: $CORRAL_HOME, else ~/.corral."""
    env = os.environ if env is None else env
    home = env.get("CORRAL_HOME")
    return os.path.abspath(home) if home else os.path.join(os.path.expanduser("~"), ".corral")


def socket_path(home: str) -> str:
    """The Unix socket of a daemon home."""
    return os.path.join(home, "corral.sock")


def resolve_address(address: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """Turns a user-given address into a grpc target.

    Accepts "unix:///abs/path", "unix:/abs/path", a path to a socket (absolute, starting with
    "." or ending in ".sock"), or "host:port". Defaults: $CORRAL_ADDRESS, then the socket in
    the default home.
    """
    env = os.environ if env is None else env
    given = address or env.get("CORRAL_ADDRESS") or socket_path(default_home(env))
    if given.startswith("unix://"):
        return "unix:///" + given[len("unix://"):].lstrip("/")
    if given.startswith("unix:"):
        return "unix:///" + os.path.abspath(given[len("unix:"):]).lstrip("/")
    if given.startswith(("/", ".")) or given.endswith(".sock"):
        return "unix:///" + os.path.abspath(given).lstrip("/")
    return given
