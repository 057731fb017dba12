"""The Python reader's index and line positions against the standard library's own view.

The index walk reads each node class's fields from its ASDL signature instead of testing every
value; these tests pin that it links exactly the children ``ast.iter_child_nodes`` yields (minus
the shared ``Load``/``Add``/... singletons), in source order, for every kind of node, and that the
shared line index splits lines where Python does.
"""

from __future__ import annotations

import ast
import gc
import re

import pytest

from peftlint.sources.python.index import ModuleIndex
from peftlint.sources.python.parse import parse_python
from peftlint.textpos import LineIndex, split_lines

# every statement and expression form, including lists that hold None (dict ``**`` keys,
# keyword-only arguments without a default) and fields that hold names (global, match classes)
SOURCE = '''\
import os, sys as system
from peft import *
from .x import a as b
counter = 0
@decorator(arg=1)
class Config(Base, metaclass=Meta):
    x: int = 1
    def method(self, a, /, b=2, *args, c, d=4, **kwargs) -> "Config":
        global counter
        counter += 1
        def inner():
            nonlocal a
            a = [i * j for i in range(3) if i for j in {k: v for k, v in {}.items()}]
        return {**kwargs, "k": lambda q, *, r: q + r}
async def agen(xs):
    async for x in xs:
        async with x as (y, z):
            await y
            yield z
    return f"{xs!r:>{10}} and {xs=}"
match command:
    case {"key": value, **rest}:
        pass
    case Point(x=0, y=_) | [1, 2, *others]:
        pass
    case None | True:
        pass
    case str() as s if s:
        pass
try:
    pass
except* ValueError as e:
    raise RuntimeError from e
else:
    del counter[1:2, ::3]
finally:
    assert (w := not -1 < 2 <= 3), "msg"
while x if y else z:
    break
with open(p) as f, g:
    continue
print(*args, sep="", **{"end": ""})
'''


def _expected_parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    singletons = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, singletons):
                parents[child] = node
    return parents


def test_parent_links_are_the_children_python_reports() -> None:
    tree = ast.parse(SOURCE)
    index = ModuleIndex(tree, SOURCE)
    assert index.parents == _expected_parents(tree)
    assert len(index.parents) > 150


def test_the_walk_meets_calls_and_names_in_source_order() -> None:
    index = ModuleIndex(ast.parse(SOURCE), SOURCE)
    assert [ast.unparse(c.func) for c in index.calls] == [
        "decorator", "range", "{}.items", "open", "print"]
    assert [(n.lineno, n.col_offset) for n in index.names["counter"]] == [(4, 0), (10, 8), (35, 8)]
    assert [type(d).__name__ for d in index.declarations] == ["Global", "Nonlocal"]
    assert index.star_modules == ["peft"] and index.imported == {"a/b"} and index.has_walrus


def test_parsing_and_indexing_leave_the_collector_as_it_was() -> None:
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            outcome = parse_python(SOURCE)
            assert outcome.tree is not None
            ModuleIndex(outcome.tree, SOURCE)
            assert gc.isenabled() is enabled
        gc.enable()
        assert parse_python("def (:\n").code == "PFT902"
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("text", ["", "a", "a\n", "\n\n", "ab\ncd\n\nef", "x\r\ny\rz\n", "\r\r\n\n", "é\nü\x0c\u2028v\n"])
def test_line_index_breaks_where_python_does(text: str) -> None:
    breaks = re.compile(r"\r\n|\r|\n")
    index = LineIndex(text)
    assert index.lines == breaks.split(text) == split_lines(text)
    assert index.starts == [0] + [m.end() for m in breaks.finditer(text)]
