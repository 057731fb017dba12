"""One peftlint cache shared by the hostile cases that need peft's facts but no model: filled once per
session (for every worker) by a run over a saved adapter config with no base model, so later runs
read peft's facts instead of importing peft again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import hostile, shared


def _fill(root: Path) -> None:
    work = root / "work"
    work.mkdir()
    (work / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"]}))
    hostile.report(hostile.run(work, root / "cache", "--format", "json", "."))
    assert list((root / "cache").glob("peftfacts-*"))


@pytest.fixture(scope="session")
def facts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared.once(tmp_path_factory, "hostile-facts", _fill) / "cache"
