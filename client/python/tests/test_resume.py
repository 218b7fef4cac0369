"""Resumable watches across a daemon restart, as a QMI user resuming a signal watch would see
them: signal seqs continue after the previous daemon's, a watcher resuming with its last seq is
told how many the restart lost, and an after_seq beyond the last seq gets a notice, not silence."""
from __future__ import annotations

import tempfile

import corral_client
from corral_client import SequenceGapReason
from conftest import CONFIG, start_daemon, stop_daemon


def first_signal_seq(client: corral_client.Client, task: str) -> int:
    """The seq of the task's first signal ("created"), from a replaying watch."""
    with client.watch_signals(tasks=[task]) as signals:
        item = next(iter(signals))
        assert item.WhichOneof("kind") == "signal"
        return item.signal.seq


def test_signal_seqs_continue_after_a_killed_daemon_and_a_resuming_watcher_is_told_what_it_lost():
    home = tempfile.mkdtemp(prefix="corral-py-")
    first = start_daemon(CONFIG, home=home)
    try:
        with first.client() as client:
            client.create_task("seen", "example_counter")
            seen = first_signal_seq(client, "seen")
            client.create_task("unseen", "example_counter")
            last = first_signal_seq(client, "unseen")
        # SIGKILL (our own child, by its pid): an orderly stop would publish more signals first.
        first.process.kill()
        first.process.wait()
    finally:
        stop_daemon(first, remove_home=False)

    second = start_daemon(CONFIG, home=home)
    try:
        with second.client() as client:
            client.create_task("after", "example_counter")
            with client.watch_signals(after_seq=seen) as signals:
                items = iter(signals)
                gap = next(items)
                assert gap.WhichOneof("kind") == "gap", gap
                assert gap.gap.reason == SequenceGapReason.SEQUENCE_GAP_REASON_NOT_HELD
                assert gap.gap.after_seq == seen
                assert gap.gap.first_available_seq == last + 1
                assert gap.gap.missed == last - seen
                created = next(items)
                assert created.WhichOneof("kind") == "signal"
                assert (created.signal.task, created.signal.name, created.signal.seq) == ("after", "created", last + 1)
    finally:
        stop_daemon(second)


def test_an_after_seq_beyond_the_last_seq_gets_an_ahead_notice_then_everything_held(corral):
    corral.create_task("ahead", "example_counter")
    last = first_signal_seq(corral, "ahead")
    with corral.watch_signals(tasks=["ahead"], after_seq=last + 1000) as signals:
        items = iter(signals)
        gap = next(items)
        assert gap.WhichOneof("kind") == "gap", gap
        assert gap.gap.reason == SequenceGapReason.SEQUENCE_GAP_REASON_AHEAD
        assert (gap.gap.after_seq, gap.gap.missed) == (last + 1000, 0)
        created = next(items)
        assert (created.signal.task, created.signal.name, created.signal.seq) == ("ahead", "created", last)
    with corral.watch_events(after_seq=10**9) as events:
        gap = next(iter(events))
        assert gap.WhichOneof("kind") == "gap", gap
        assert gap.gap.reason == SequenceGapReason.SEQUENCE_GAP_REASON_AHEAD
        assert gap.gap.missed == 0
