"""The server's worker process: model builds and peft's verdicts and facts, off the server process.

What a lint needs and the cache does not hold yet (a model built on the meta device, peft's facts, a
verdict of peft on a config) imports torch, transformers and peft and takes seconds of CPU and
hundreds of MB. The server hands each ``Linter`` a ``WorkerProcess`` as its ``Offload``
(model/offload.py): the work runs in one child process kept for the session (torch is imported
there once), the server's lint thread waits for the result without holding the GIL, and the server
process imports none of those libraries. The child is spawned, never forked (the server has threads
and an event loop), writes nothing to the server's stdout (the LSP stream) and exits when the server
does. When it dies (killed, out of memory, a crash in native code) the call raises ``OffloadFailed``
(the model "could not be built", as on the command line), the death is logged, and the next call
starts a new child.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, ParamSpec, TypeVar

from peftlint.model.offload import OffloadFailed

P = ParamSpec("P")
R = TypeVar("R")


class WorkerProcess:
    """An ``Offload`` backed by one spawned process (``ProcessPoolExecutor(max_workers=1)``), re-made
    after it dies. ``log`` is told of each death (the server sends it as ``window/logMessage``)."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        pool = self._current()
        try:
            return pool.submit(_run, fn, args, kwargs).result()
        except BrokenProcessPool:
            if self._closed:
                raise OffloadFailed("the server is shutting down") from None
            how = self._discard(pool)
            self._log(f"peftlint: the worker process died ({how}) while it ran {_name(fn)}; "
                      "a new one is started for the next build")
            raise OffloadFailed(f"the worker process building it died ({how})") from None

    def close(self) -> None:
        """Stop the child at once (the session ends; a build it is in is of no use any more, and the
        server's exit would wait for it); later calls fail with ``OffloadFailed``."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            processes = list((pool._processes or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise OffloadFailed("the server is shutting down")
            pool = self._pool
        if pool is not None and not _alive(pool):  # died while idle (the OOM killer picks the largest process)
            how = self._discard(pool)
            self._log(f"peftlint: the worker process had died ({how}) while idle; a new one is started")
            pool = None
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_child)
            with self._lock:
                self._pool = pool
        return pool

    def _discard(self, pool: ProcessPoolExecutor) -> str:
        """Shut down a dead pool; how its process ended."""
        processes = list((pool._processes or {}).values())
        pool.shutdown(wait=True, cancel_futures=True)  # the dead child is reaped: its exit code is known
        with self._lock:
            if self._pool is pool:
                self._pool = None
        return _how_it_ended([p.exitcode for p in processes])


def _alive(pool: ProcessPoolExecutor) -> bool:
    return all(p.is_alive() for p in (pool._processes or {}).values())


def _how_it_ended(codes: list[int | None]) -> str:
    code = next((c for c in codes if c), None)
    if code is None:
        return "ended abruptly"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _name(fn: Callable[..., object]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


# -- in the child ---------------------------------------------------------------------------------


def _start_child() -> None:
    """The child's setup: its stdout goes to stderr (stdout is the server's LSP stream, and a model's
    code may print), and it exits when the server process does (a server killed without a shutdown
    leaves no process behind)."""
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="peftlint-parent-watch", daemon=True).start()


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the parent's end of the spawn pipe closes: the server is gone
    os._exit(0)


def _run(fn: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    """``fn(*args, **kwargs)`` in the child, raising only what can go back to the server: an exception
    that does not survive pickling would break the pool (it is sent back as its class and text)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise
