import os
import sys
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
    # huggingface_hub reads the environment once, when imported; a test module that imports it while
    # being collected (`pytest.importorskip("diffusers")`) came before this fixture
    patched = {}
    if "huggingface_hub" in sys.modules:
        from huggingface_hub import constants

        patched = {"HF_HUB_CACHE": constants.HF_HUB_CACHE, "HF_HUB_OFFLINE": constants.HF_HUB_OFFLINE}
        constants.HF_HUB_CACHE, constants.HF_HUB_OFFLINE = str(hf), True
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    if patched:
        from huggingface_hub import constants

        for k, v in patched.items():
            setattr(constants, k, v)
