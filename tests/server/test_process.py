"""The server's worker process (``peftlint.server.process.WorkerProcess``) on its own: work runs in
one other process kept between calls, its exceptions come back as they are, a death comes back as
``OffloadFailed`` (logged) and the next call gets a new process. Stdlib functions stand for the
work, so the child imports nothing of the test."""

from __future__ import annotations

import os
import signal

import pytest

from peftlint.model.offload import OffloadFailed, in_process
from peftlint.server.process import WorkerProcess


def test_work_runs_in_one_other_process_until_it_dies() -> None:
    logged: list[str] = []
    worker = WorkerProcess(logged.append)
    try:
        child = worker(os.getpid)
        assert child != os.getpid() and worker(os.getpid) == child  # one process for the session
        with pytest.raises(ValueError, match="invalid literal"):
            worker(int, "not a number")
        assert worker(os.getpid) == child  # an exception of the work does not cost the process
        assert logged == []

        with pytest.raises(OffloadFailed, match=r"died \(exit code 3\)"):
            worker(os._exit, 3)
        assert logged == ["peftlint: the worker process died (exit code 3) while it ran posix._exit; "
                          "a new one is started for the next build"]
        with pytest.raises(OffloadFailed, match=r"died \(killed by SIGKILL\)"):
            worker(signal.raise_signal, signal.SIGKILL)  # as the out-of-memory killer ends a process
        assert len(logged) == 2 and "killed by SIGKILL" in logged[1]
        again = worker(os.getpid)
        assert again not in (child, os.getpid())
    finally:
        worker.close()
    with pytest.raises(OffloadFailed, match="shutting down"):
        worker(os.getpid)


def test_in_process_runs_here() -> None:
    assert in_process(os.getpid) == os.getpid()
    assert in_process(int, "7", base=8) == 7
