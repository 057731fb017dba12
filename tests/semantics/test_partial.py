"""semantics.partial: which names an unknown subtree of a statically read tree may hold."""

from __future__ import annotations

import pytest

from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.partial import is_partial, touches_unknown


def _inventory(unknown: list[str]) -> Inventory:
    return Inventory("train.py", "custom", "Net", "", [ModuleInfo("blocks", "ModuleList", "modulelist")],
                     is_pretrained_model=False, unknown=unknown)


def test_is_partial():
    assert is_partial(_inventory(["backbone"])) and not is_partial(_inventory([])) and not is_partial(None)


@pytest.mark.parametrize("unknown, name, touches", [
    (["blocks.2"], "blocks", True),  # inside the list
    (["blocks"], "blocks.0.up", True),  # the list itself is unknown
    (["blocks"], "blocks", True),
    (["blocks_extra"], "blocks", False),  # a prefix of the name, not a subtree
    (["head"], "blocks", False),
])
def test_touches_unknown(unknown, name, touches):
    assert touches_unknown(_inventory(unknown), name) is touches
