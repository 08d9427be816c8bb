"""The race tests' helper: calls start together, results keep their order, errors fail."""

from __future__ import annotations

import threading

import pytest

from tests.concurrency import run_together


def test_results_come_back_in_the_order_of_the_calls():
    assert run_together(lambda: "a", lambda: "b", lambda: "c") == ["a", "b", "c"]


def test_the_calls_run_at_the_same_time():
    # Each waits for the other: run one after the other, they would time out.
    both = threading.Barrier(2, timeout=10)
    assert run_together(both.wait, both.wait) in ([0, 1], [1, 0])


def test_an_error_in_one_thread_fails_the_test_after_all_have_run():
    finished = []

    def fails():
        raise RuntimeError("deadlock detected")

    def runs():
        finished.append(True)

    with pytest.raises(RuntimeError, match="deadlock detected"):
        run_together(fails, runs)
    assert finished == [True]
