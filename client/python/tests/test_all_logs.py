"""Every program's logs from Python, against a real daemon: read_all_logs (the last lines of each
program and stream), follow_all_logs (one stream of everyone's output, each chunk naming its
program), since=, and ApplyConfig refusing a config without programs unless allow_empty."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import grpc
import pytest

import corral_client
from conftest import wait_for
from corral_client import CorralError

STDOUT = corral_client.LogStream.Value("LOG_STREAM_STDOUT")
STDERR = corral_client.LogStream.Value("LOG_STREAM_STDERR")


def _ticker(word: str) -> dict:
    return {
        "command": ["/bin/sh", "-c", f"i=0; while true; do i=$((i+1)); echo {word} $i; echo {word}-err $i >&2; sleep 0.1; done"],
        "startsecs": 0,
        "stop_timeout": "5s",
    }


DAEMON_CONFIG = {"programs": {"alpha": _ticker("alpha"), "beta": _ticker("beta")}}


def test_follow_all_logs_streams_every_programs_output_tagged_with_its_program(corral):
    seen = set()
    with corral.follow_all_logs(tail_lines=1) as logs:
        for response in logs:
            chunk = response.chunk
            for line in chunk.data.decode().splitlines():
                assert line.split()[0].startswith(chunk.program), (chunk.program, line)
                seen.add((chunk.program, chunk.stream))
            if len(seen) == 4:
                break
    assert seen == {("alpha", STDOUT), ("alpha", STDERR), ("beta", STDOUT), ("beta", STDERR)}


def test_read_all_logs_gives_the_last_lines_of_each_program_and_stream(corral):
    # Both programs start with the daemon: wait until each stream has two lines.
    wait_for(lambda: all(c.data.count(b"\n") >= 2 for c in corral.read_all_logs(tail_lines=2)), 30, "two lines from each stream")
    chunks = corral.read_all_logs(tail_lines=2)
    assert [(c.program, c.stream) for c in chunks] == [("alpha", STDOUT), ("alpha", STDERR), ("beta", STDOUT), ("beta", STDERR)]
    for chunk in chunks:
        lines = chunk.data.decode().splitlines()
        assert len(lines) == 2
        suffix = "-err" if chunk.stream == STDERR else ""
        assert all(line.startswith(f"{chunk.program}{suffix} ") for line in lines), lines


def test_since_reads_only_recent_output(corral):
    # Everything written before a minute from now is older than since: nothing is returned.
    future = corral.read_logs("alpha", since=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert future.chunk.data == b""
    # Since an hour ago covers the daemon's whole life: the read starts at the first kept byte.
    past = corral.read_logs("alpha", since=datetime.now(timezone.utc) - timedelta(hours=1), max_bytes=64)
    assert past.chunk.offset == past.first_offset and past.chunk.data.startswith(b"alpha 1\n")


def test_apply_config_without_programs_needs_allow_empty(corral):
    with pytest.raises(CorralError) as caught:
        corral.apply_config(text="server: {}\n", dry_run=True)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "allow_empty" in caught.value.details()
    diff = corral.apply_config(text="server: {}\n", dry_run=True, allow_empty=True)
    assert sorted(diff.removed) == ["alpha", "beta"]
