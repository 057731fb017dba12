import os
from pathlib import Path

import pytest

SHARED_MODELS = Path(__file__).resolve().parents[2] / "peftlint" / "data" / "models"


@pytest.fixture(scope="session", autouse=True)
def _isolated_caches(tmp_path_factory):
    """Every test run uses its own peftlint cache and an empty Hugging Face cache, offline."""
    cache = tmp_path_factory.mktemp("peftlint-cache")
    hf = tmp_path_factory.mktemp("hf-cache")
    old = {k: os.environ.get(k) for k in ("PEFTLINT_CACHE_DIR", "HF_HUB_CACHE", "HF_HUB_OFFLINE")}
    os.environ["PEFTLINT_CACHE_DIR"] = str(cache)
    os.environ["HF_HUB_CACHE"] = str(hf)
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
