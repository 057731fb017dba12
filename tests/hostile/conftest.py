"""One peftlint cache shared by the hostile cases that need peft's facts but no model: it is filled
by the first run that needs it, and later runs read it instead of importing peft again."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def facts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-facts-cache")
