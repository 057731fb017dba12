"""Where the heavy work of a lint runs: a model build, peft's verdicts and facts on a cache miss.

Each of them imports torch, transformers or peft and takes seconds of CPU and hundreds of MB. The
command line runs them in its own process (``in_process``); the language server hands the
``Linter`` an ``Offload`` that runs them in a worker process (``peftlint.server.process``), so the
server itself never imports those libraries and a crash or an out-of-memory kill during a build does
not take it down. What is offloaded is a module-level function with picklable arguments and result
(it may be sent to another process); it stores its cache entry itself, the caller reads what it
returns.
"""

from __future__ import annotations

from typing import Callable, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Offload(Protocol):
    """Runs ``fn(*args, **kwargs)`` somewhere and returns its result; raises what ``fn`` raises, or
    ``OffloadFailed`` when the place it ran in died."""

    def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R: ...


class OffloadFailed(Exception):
    """The process the work ran in died (killed, out of memory, a crash in native code)."""


def in_process(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run here (the command line, ``peftlint modules``, tests)."""
    return fn(*args, **kwargs)
