"""User-supplied regexes, matched with Python's ``re`` (PEFT's own semantics) under a time budget.

A pattern such as ``(.*)*z`` backtracks exponentially: ``re.fullmatch`` on one module name never
returns, in PEFT as here. Every match of a pattern that comes from a user (``target_modules`` or
``exclude_modules`` as a string, ``modules_to_save`` entries, ``layers_pattern``, rank/alpha
pattern keys, IA3 ``feedforward_modules``) goes through this module. Each pattern may spend at most
``budget`` seconds matching in one process, summed over all the strings it is matched against,
and all patterns of one file (of one run) together ``FILE_FACTOR`` (``RUN_FACTOR``) budgets; past that, the match raises :class:`RegexTooSlow`, and so does every later match of that pattern.
The engine skips the checks that hit it and PFT212 reports the pattern.

How the budget is enforced: in the main thread of a POSIX process, ``re`` runs under an interval
timer whose signal handler raises inside the matcher (``re`` checks for signals while it
backtracks), so the answers are exactly ``re``'s. Elsewhere (another thread, Windows, or while
someone else's timer is running) the third-party ``regex`` module, which takes a ``timeout``, matches
the pattern in its ``re``-compatible mode (``VERSION0``); patterns are always compiled by ``re``
first, so what ``re`` rejects stays an error.

Results are memoised per (operation, pattern, string): rules that ask the same question again pay
nothing, and a pattern found too slow stays too slow for the rest of the run.
"""

from __future__ import annotations

import functools
import re
import signal
import threading
import time
from typing import Any

from peftlint.config import DEFAULT_REGEX_TIMEOUT

DEFAULT_BUDGET = DEFAULT_REGEX_TIMEOUT  # seconds per pattern; ``regex-timeout`` in [tool.peftlint]
_MEMO_LIMIT = 200_000

# Many slow patterns together: one file may spend FILE_FACTOR budgets, one run RUN_FACTOR budgets
# (60 catastrophic rank_pattern keys in one file would otherwise take 60 budgets). Past them every
# pattern not matched yet is reported as too slow.
FILE_FACTOR, RUN_FACTOR = 3, 10

_budget = DEFAULT_BUDGET
_file_spent = [0.0]
_run_spent = [0.0]
_spent: dict[str, float] = {}
_slow: set[str] = set()
_memo: dict[tuple[str, str, str], Any] = {}


class RegexTooSlow(Exception):
    """Matching ``pattern`` took longer than the budget; the pattern is reported by PFT212."""

    def __init__(self, pattern: str, budget: float) -> None:
        super().__init__(f"matching the regex {pattern!r} took more than {budget:g} s and was stopped")
        self.pattern = pattern
        self.budget = budget


class _Alarm(Exception):
    pass


def configure(budget: float) -> None:
    """Set the per-pattern budget (seconds) and forget what earlier runs measured."""
    global _budget
    _budget = float(budget)
    reset()


def start_file() -> None:
    """A new file: its share of the budget starts again (the run's share does not)."""
    _file_spent[0] = 0.0


def reset() -> None:
    _file_spent[0] = _run_spent[0] = 0.0
    _spent.clear()
    _slow.clear()
    _memo.clear()


def budget() -> float:
    return _budget


@functools.lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        raise
    except (RecursionError, OverflowError, ValueError, MemoryError) as exc:  # nesting too deep, a huge repeat
        raise re.error(f"cannot compile the pattern: {type(exc).__name__}") from None


def compile_error(pattern: str) -> str | None:
    """``re``'s error message for an invalid ``pattern``, or None when it compiles."""
    try:
        _compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def fullmatch(pattern: str, string: str) -> Any:
    """``re.fullmatch(pattern, string)`` within the budget (``re.error`` for an invalid pattern)."""
    return _run("fullmatch", pattern, string)


def match(pattern: str, string: str) -> Any:
    """``re.match(pattern, string)`` within the budget."""
    return _run("match", pattern, string)


def search(pattern: str, string: str) -> Any:
    """``re.search(pattern, string)`` within the budget."""
    return _run("search", pattern, string)


def _run(op: str, pattern: str, string: str) -> Any:
    key = (op, pattern, string)
    if key in _memo:
        return _memo[key]
    compiled = _compile(pattern)
    if pattern in _slow:
        raise RegexTooSlow(pattern, _budget)
    remaining = min(_budget - _spent.get(pattern, 0.0), FILE_FACTOR * _budget - _file_spent[0],
                    RUN_FACTOR * _budget - _run_spent[0])
    if remaining <= 0:
        _slow.add(pattern)
        raise RegexTooSlow(pattern, _budget)
    start = time.perf_counter()
    try:
        found = _timed(compiled, op, string, max(remaining, 1e-3))
    except (_Alarm, TimeoutError):
        _slow.add(pattern)
        raise RegexTooSlow(pattern, _budget) from None
    finally:
        took = time.perf_counter() - start
        _spent[pattern] = _spent.get(pattern, 0.0) + took
        _file_spent[0] += took
        _run_spent[0] += took
    if len(_memo) >= _MEMO_LIMIT:
        _memo.clear()
    _memo[key] = found
    return found


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm()


def _timed(compiled: re.Pattern[str], op: str, string: str, seconds: float) -> Any:
    if _can_use_timer():
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return getattr(compiled, op)(string)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
    return _timed_regex(compiled, op, string, seconds)


def _can_use_timer() -> bool:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return False
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # someone else's timer: do not disturb it
        return False
    return signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)


def _timed_regex(compiled: re.Pattern[str], op: str, string: str, seconds: float) -> Any:
    rx = _compile_regex(compiled.pattern, compiled.flags & ~re.UNICODE)
    if rx is None:  # no regex module, or a pattern only ``re`` understands: no budget rather than another answer
        return getattr(compiled, op)(string)
    return getattr(rx, op)(string, timeout=seconds)


@functools.lru_cache(maxsize=512)
def _compile_regex(pattern: str, flags: int) -> Any:
    try:
        import regex

        return regex.compile(pattern, flags | regex.VERSION0)
    except Exception:
        return None
