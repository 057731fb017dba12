"""A real ``peftlint`` process for the hostile cases: an address-space limit (an overrun fails the
case, not the machine), a CPU-time limit, and a generous wall-clock cap that only guards against a
hang (CPU time, not wall time, bounds the work, so a loaded machine does not fail a case); the cases
themselves are cheap. ``report`` reads the JSON report and checks it is complete, with no PFT999."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from support.helpers_hf import REPO_ROOT

LIMIT_BYTES = 1024 * 1024 * 1024
CPU_SECONDS = 60
HANG_GUARD = 600.0


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 5))  # SIGXCPU at the soft limit
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # whatever the test runner's disposition was


def run(cwd: Path, cache: Path, *args: str, stdout: object = subprocess.PIPE, script: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "PEFTLINT_CACHE_DIR": str(cache),
                **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    cmd = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "peftlint", *args]
    proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=stdout, stderr=subprocess.PIPE, preexec_fn=_limit,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # with any worker processes, which hold the pipes open
        proc.communicate()
        raise AssertionError(f"peftlint {' '.join(args)} hung: no exit within {HANG_GUARD:.0f} s") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def report(got: subprocess.CompletedProcess) -> list[dict]:
    assert got.returncode in (0, 1), f"exit {got.returncode}: {got.stderr[-2000:]}"
    assert "Traceback" not in got.stderr, got.stderr
    findings = json.loads(got.stdout)
    assert "PFT999" not in {d["code"] for d in findings}, findings
    return findings


def text_of(finding: dict) -> str:
    return f"{finding['message']} {finding.get('detail') or ''}"
