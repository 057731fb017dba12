"""The regex budget bounds a file and a run, not only each pattern: after catastrophic patterns
have spent FILE_FACTOR (RUN_FACTOR) budgets, every further pattern of that file (run) is reported
too slow without being matched. Budgets are spent in full by patterns that never finish, so the
outcome does not depend on the machine's speed."""

from __future__ import annotations

import pytest

from peftlint.semantics import regex_budget as rb

NAME = "a" * 40


@pytest.fixture
def tiny_budget():
    saved = rb.budget()
    rb.configure(0.02)
    yield
    rb.configure(saved)


def _slow(i: int) -> str:
    return "(.*)*" + "a" * i + "z"  # backtracks forever on NAME


def test_file_budget_stops_further_patterns(tiny_budget) -> None:
    rb.start_file()
    for i in range(rb.FILE_FACTOR):
        with pytest.raises(rb.RegexTooSlow):
            rb.fullmatch(_slow(i), NAME)
    with pytest.raises(rb.RegexTooSlow):  # a harmless pattern, but this file's budget is spent
        rb.fullmatch("q_proj", "q_proj")
    rb.start_file()  # the next file has its own share
    assert rb.fullmatch("v_proj", "v_proj")


def test_run_budget_stops_further_patterns(tiny_budget) -> None:
    for i in range(rb.RUN_FACTOR):
        rb.start_file()
        with pytest.raises(rb.RegexTooSlow):
            rb.fullmatch(_slow(i), NAME)
    rb.start_file()
    with pytest.raises(rb.RegexTooSlow):
        rb.fullmatch("k_proj", "k_proj")
    rb.reset()  # a new run
    assert rb.fullmatch("k_proj", "k_proj")
