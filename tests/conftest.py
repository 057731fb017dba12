import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Every property test draws the same examples on every run (derandomize) and keeps no database of
# past failures: a red run is a real bug that reproduces, never luck or an example saved by an
# earlier run. PEFTLINT_HYPOTHESIS=explore draws new examples and keeps them (for long runs by hand).
settings.register_profile("suite", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile("explore" if os.environ.get("PEFTLINT_HYPOTHESIS") == "explore" else "suite")

SHARED_MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"

_KEYS = ("PEFTLINT_CACHE_DIR", "HF_HUB_CACHE", "HF_HUB_OFFLINE")
_saved: dict[str, str | None] = {}
_root: list[str] = []


def pytest_configure(config) -> None:
    """Every test run uses its own peftlint cache and an empty Hugging Face cache, offline.

    Set before any test module is imported: huggingface_hub reads HF_HUB_CACHE when it is first
    imported, and worker processes read it from the environment; both must see the same folder.
    """
    # Hundreds of tests start a new Python process (`python -m peftlint`, probes). With
    # PYTHONDONTWRITEBYTECODE set (as in some containers and CI images) each of them would compile
    # every peftlint module it imports from source again; written once, the bytecode is reused, as in
    # a normal install. Workers and subprocesses inherit the environment set here.
    _saved["PYTHONDONTWRITEBYTECODE"] = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = tempfile.mkdtemp(prefix="peftlint-tests-")
    _root.append(root)
    _saved.update({k: os.environ.get(k) for k in _KEYS})
    os.environ["PEFTLINT_CACHE_DIR"] = os.path.join(root, "peftlint-cache")
    os.environ["HF_HUB_CACHE"] = os.path.join(root, "hf-cache")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.makedirs(os.environ["HF_HUB_CACHE"])


def pytest_unconfigure(config) -> None:
    for k, v in _saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    for root in _root:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _serial_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``-j 0`` (the default) goes parallel once a run has taken half a second, so how a test's run
    is split would depend on how fast the machine is. In the suite it stays in this process unless
    the test asks for workers with ``-j N`` (or sets ``SERIAL_BUDGET`` itself)."""
    from peftlint.engine import parallel

    monkeypatch.setattr(parallel, "SERIAL_BUDGET", math.inf)
