"""mypy over the package, as configured in pyproject.toml ([tool.mypy]): no errors.

Modules that still have errors are listed there under ``ignore_errors`` (the ratchet in
docs/architecture.md); every other module, and every new one, must check clean. The first run
takes about 20 s on two cores; later runs reuse ``.mypy_cache``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors() -> None:
    got = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert got.returncode == 0, got.stdout + got.stderr
    assert "Success: no issues found" in got.stdout


def test_mypy_would_report_an_error_in_a_checked_module(tmp_path: Path) -> None:
    """Guard against a configuration that checks nothing: the same settings flag a wrong type."""
    bad = tmp_path / "bad.py"
    bad.write_text("from peftlint.codes import Code\n\nx: Code = 'PFT101'\n")
    got = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(bad)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert got.returncode == 1 and 'Incompatible types in assignment (expression has type "str"' in got.stdout
