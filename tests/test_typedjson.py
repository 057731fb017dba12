"""Cache entries are read back only in their exact declared shape; the error says where it is not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from peftlint import typedjson


@dataclass
class Node:
    name: str
    size: int = 0
    children: list["Node"] = field(default_factory=list)
    attrs: dict[str, float] = field(default_factory=dict)
    parent: str | None = None
    extra: Any = None


def test_nested_values_of_the_declared_types_round_trip() -> None:
    data = {"name": "root", "children": [{"name": "a", "size": 2, "attrs": {"x": 1}}], "extra": {"k": [1, None]}}
    node = typedjson.load(Node, data)
    assert node == Node("root", children=[Node("a", 2, attrs={"x": 1.0})], extra={"k": [1, None]})
    assert isinstance(node.children[0].attrs["x"], float)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "r", "children": [{"name": "a"}, {"name": 3}]}, "Node.children[1].name: expected a string, got int"),
    ({"name": "r", "attrs": {"x": "1"}}, "Node.attrs['x']: expected a number, got str"),
    ({"name": "r", "size": True}, "Node.size: expected an integer, got bool"),
    ({"name": "r", "colour": "red"}, "Node: unexpected key 'colour'"),
    ({"size": 1}, "Node: missing key 'name'"),
    ({"name": "r", "parent": 1}, "Node.parent: expected a string, got int"),
    ({"name": "r", "extra": {1: 2}}, "Node.extra: object keys must be strings"),
    ([], "Node: expected an object, got list"),
])
def test_a_wrong_shape_says_where(data: Any, message: str) -> None:
    with pytest.raises(typedjson.ShapeError) as err:
        typedjson.load(Node, data)
    assert str(err.value) == message


def test_an_enum_field_reads_its_members_and_rejects_other_text() -> None:
    from peftlint.model.inventory import ModuleInfo, ModuleKind

    got = typedjson.load(ModuleInfo, {"name": "q", "cls": "Linear", "kind": "linear"})
    assert got.kind is ModuleKind.LINEAR
    with pytest.raises(typedjson.ShapeError, match=r"moduleinfo\.kind: expected one of .*'linear'.*got 'lineer'"):
        typedjson.load(ModuleInfo, {"name": "q", "cls": "Linear", "kind": "lineer"}, "moduleinfo")
    with pytest.raises(typedjson.ShapeError, match=r"\.kind: expected one of"):
        typedjson.load(ModuleInfo, {"name": "q", "cls": "Linear", "kind": ["linear"]})
