from __future__ import annotations

import pytest

from peftlint.engine.run import Linter


@pytest.fixture
def linted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names (relative to their grandparent) of the files each run really lints (misses)."""
    names: list[str] = []
    original = Linter._lint_file

    def spy(self: Linter, cand, result, *rest):  # type: ignore[no-untyped-def]
        names.append(f"{cand.path.parent.name}/{cand.path.name}")
        return original(self, cand, result, *rest)

    monkeypatch.setattr(Linter, "_lint_file", spy)
    return names
