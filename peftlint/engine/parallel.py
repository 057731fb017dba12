"""Linting files in worker processes.

``-j 0`` (the default) lints in the main process first and starts one worker per available CPU for
the files still left once the run has taken ``SERIAL_BUDGET`` seconds: a run with a few quick files
(a pre-commit call, a handful of changed files) never pays for starting processes, whatever the
cost of a file is, and a long run uses every core (a cold run, which imported peft while reading the
files, goes parallel at its first file to lint). Result-cache hits never reach this module.
``-j N`` starts N workers at once (at most one per two files). Workers get small batches (for
balance and a live progress line) and keep one ``Linter`` each, so a model is resolved once per
worker; inventories are built once in all (``get_inventory`` holds a lock in the cache directory
while it builds, the other workers wait and read the entry). The output does not depend on the
number of workers: the caller sorts everything.

Workers are forked on Linux (cheap: the parent's imports and peft facts are inherited) and spawned
elsewhere (macOS and Windows, where fork is unsafe or missing).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Callable, Protocol

from peftlint.config import Settings
from peftlint.engine.discover import Candidate
from peftlint.engine.prefetch import ReadAhead
from peftlint.engine.reading import SourceRead
from peftlint.engine.results import RunResult
from peftlint.engine.results_cache import ResultCache

# a file to lint and the run's read of it (its bytes go to the worker with it: no file is read twice)
Pending = tuple[Candidate, SourceRead | None]

# -j 0: seconds of linting in the main process before the rest goes to workers (starting a forked
# worker costs about 0.05 s, a spawned one about 0.5 s; see benchmarks/run.py --break-even).
SERIAL_BUDGET = 0.5
MIN_FILES_PER_WORKER = 2
BATCH = 4  # files per task


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: int, left: int, elapsed: float = 0.0) -> int:
    """How many processes lint the ``left`` files still to lint after ``elapsed`` seconds of the run:
    ``jobs`` 1 = serial, 0 = automatic; 1 means "go on in this process"."""
    if jobs == 1 or left < MIN_FILES_PER_WORKER:
        return 1
    if jobs == 0:
        if elapsed < SERIAL_BUDGET:
            return 1
        jobs = available_cpus()
    return max(1, min(jobs, left // MIN_FILES_PER_WORKER))


def _context():  # type: ignore[no-untyped-def]
    import multiprocessing

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class WorkerLinter(Protocol):
    """What this module uses of engine.run's Linter (whose class comes from the parent, so this
    module does not import engine.run)."""

    settings: Settings
    cwd: Path
    results: ResultCache | None
    read_ahead: dict[str, ReadAhead]
    progress: Callable[[int, int], None] | None

    def facts(self) -> object: ...

    def lint_file(self, cand: Candidate, result: RunResult, read: SourceRead | None = None) -> None: ...


# This process's Linter, when it is a worker.
_WORKER: WorkerLinter | None = None
_RESULT: Callable[[], RunResult] = RunResult


def _init_worker(linter_cls: Callable[..., WorkerLinter], result_cls: Callable[[], RunResult], settings: Settings,
                 cwd: Path, result_cache: bool, read_ahead: dict[str, ReadAhead]) -> None:
    global _WORKER, _RESULT
    _WORKER = linter_cls(settings, cwd, result_cache=result_cache)
    _WORKER.read_ahead = read_ahead
    _RESULT = result_cls


def _lint_batch(batch: list[Pending]) -> RunResult:
    assert _WORKER is not None
    part = _RESULT()
    for cand, read in batch:
        _WORKER.lint_file(cand, part, read)
        if not gc.isenabled():  # forked from a run without the cyclic collector (see engine.run)
            gc.collect(0)
    for o in part.outcomes:  # what crosses the process boundary: findings and summaries only
        o.ctx, o.inventory = None, None
    return part


def lint_in_workers(linter: WorkerLinter, cands: list[Pending], workers: int, result: RunResult, done: int,
                    total: int) -> None:
    """Lint ``cands`` in ``workers`` processes into ``result``; ``done``/``total`` feed the progress."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool
    from pickle import PicklingError

    linter.facts()  # read (or build and cache) peft's facts once, before the workers start
    batches = [cands[i:i + BATCH] for i in range(0, len(cands), BATCH)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker,
                             initargs=(type(linter), type(result), linter.settings, linter.cwd,
                                       linter.results is not None, linter.read_ahead)) as pool:
        futures = {pool.submit(_lint_batch, batch): batch for batch in batches}
        for fut in as_completed(futures):
            try:
                result.extend(fut.result())
            except (RecursionError, PicklingError, MemoryError, BrokenProcessPool):
                # a value nested too deeply to pickle (a 900-deep target_modules), a result too
                # large to pickle within the worker's memory (the specs of an adapter_config.json
                # of 150,000 keys), a worker that died (out of memory in a library): the batch is
                # linted here, where nothing has to cross a process boundary
                for cand, read in futures[fut]:
                    linter.lint_file(cand, result, read)
            done += len(futures[fut])
            if linter.progress is not None:
                linter.progress(done, total)
