"""Trainer config values → ``Value``\\ s with spans: YAML nodes (from ``yamlread``), LLaMA-Factory's
comma-separated lists and TRL's one-item lists."""

from __future__ import annotations

import re

import yaml

from peftlint.diagnostics import Span
from peftlint.sources.yamlread import huge_int
from peftlint.spec import Value
from peftlint.textpos import LineIndex

_TEMPLATE = re.compile(r"\$\{?[A-Za-z_]|\{\{")  # ${VAR}, $VAR, {{ jinja }}
# Nodes one key's value may visit, aliases counted each time they are followed: far above any real
# config, far below what a "billion laughs" alias bomb expands to; and all keys of a file together.
BUDGET = 10_000
FILE_BUDGET = 200_000
# An int past this cannot even be printed (Python converts at most 4,300 digits): as the Python reader
# leaves such a value dynamic, so does this one (``0x`` and 4,000 hex digits is 16,000 bits).
MAX_INT_BITS = 14_000


class OverBudget(Exception):
    """A value expands (through aliases) to more nodes than ``BUDGET``."""


class Unreadable(Exception):
    """A value that cannot be built: a scalar with an invalid explicit tag (reported by ``yamlread``),
    or nesting cut off at ``yamlread.MAX_DEPTH`` inside a list or mapping (the item is left out)."""


def node_span(node: yaml.Node, lines: LineIndex) -> Span:
    s, e = node.start_mark, node.end_mark or node.start_mark
    text = lines.text
    if e.index > s.index and text[e.index - 1:e.index] in ("\n", " ", "\r", "\t"):
        # a block collection ends at the start of the next key: end the span after its last character
        end = e.index
        while end > s.index and text[end - 1] in " \t\r\n":
            end -= 1
        return lines.span(s.index, end)
    return lines.span(s.index, e.index)


class NodeValues:
    """Builds ``Value``\\ s from nodes, counting them against ``BUDGET`` and ``FILE_BUDGET``."""

    def __init__(self, lines: LineIndex) -> None:
        self.lines = lines
        self.constructor = yaml.constructor.SafeConstructor()
        self.spent = 0  # by the current key (the caller resets it)
        self.total = 0  # by the whole file

    def value(self, node: yaml.Node | None) -> Value:
        if node is None:
            raise Unreadable()
        self.spent += 1
        self.total += 1
        if self.spent > BUDGET or self.total > FILE_BUDGET:
            raise OverBudget()
        span = node_span(node, self.lines)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for n in node.value:
                try:
                    items.append(self.value(n))
                except Unreadable:
                    continue  # an invalid scalar is reported once by the reader; the rest is read
            return Value([i.value for i in items], span, kind="list", items=items)
        if isinstance(node, yaml.MappingNode):
            members: dict[str, Value] = {}
            keys: dict[str, Value] = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
                    continue
                try:
                    members[str(k.value)] = self.value(v)
                except Unreadable:
                    continue
                keys[str(k.value)] = Value(str(k.value), node_span(k, self.lines), kind="str")
            return Value({k: m.value for k, m in members.items()}, span, kind="dict", keys=keys, members=members)
        if huge_int(node):
            return Value(None, span, dynamic=True, kind="dynamic",
                         reason=f"an integer of {len(node.value):,} characters, too long to evaluate")
        try:
            py = self.constructor.construct_object(node)
        except Exception:
            raise Unreadable() from None
        if isinstance(py, int) and not isinstance(py, bool) and py.bit_length() > MAX_INT_BITS:
            return Value(None, span, dynamic=True, kind="dynamic",
                         reason=f"an integer of {py.bit_length():,} bits, too large to evaluate")
        if isinstance(py, str) and _TEMPLATE.search(py):
            return Value(None, span, dynamic=True, kind="dynamic",
                         reason=f"filled in by a template variable when the config is rendered ({py})")
        kind = {str: "str", bool: "bool", int: "int", float: "float", type(None): "none"}.get(type(py), "str")
        if kind == "str" and not isinstance(py, str):  # a date, bytes, ...: what the trainer would get
            return Value(py, span, kind="other")
        return Value(py, span, kind=kind)


def comma_value(s: str, span: Span, raw: str | None) -> Value:
    """LLaMA-Factory's ``q_proj,v_proj``: one item per name, each with its own span when the text
    ``raw`` at ``span`` (one line) is the value itself, plain or quoted without escapes."""
    offset = None
    if raw is not None and span.line == span.end_line:
        if raw == s:
            offset = 0
        elif len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] and raw[1:-1] == s:
            offset = 1
    items = []
    pos = 0
    for part in s.split(","):
        name = part.strip()
        lead = len(part) - len(part.lstrip())
        if offset is not None:
            col = span.column + offset + pos + lead
            item_span = Span(span.line, col, span.line, col + len(name))
        else:
            item_span = span
        items.append(Value(name, item_span, kind="str"))
        pos += len(part) + 1
    return Value([i.value for i in items], span, kind="list", items=items, origin="comma-separated string")


def trl_single(item: Value) -> Value:
    """TRL's ``ModelConfig.__post_init__`` turns a one-item ``lora_target_modules`` list into that
    string, which LoraConfig then treats as a regex (or as the ``all-linear`` shorthand)."""
    return Value(item.value, item.span, kind="str", origin="one-item lora_target_modules (TRL passes the string)")


def one_item_list(v: Value, origin: str) -> Value:
    """A string the trainer wraps in a list (a literal module name, not a regex)."""
    return Value([v.value], v.span, kind="list", items=[Value(v.value, v.span, kind="str")], origin=origin)


def la_factory_scalar(v: Value) -> Value:
    """LLaMA-Factory v1's ``_convert_str_dict``: "true"/"false", digits and decimals in strings of a
    plugin config become bool, int and float before the params dataclass sees them."""
    if not v.is_str:
        return v
    s = v.value
    if s.lower() in ("true", "false"):
        return Value(s.lower() == "true", v.span, kind="bool")
    try:
        if s.isdigit():
            return Value(int(s), v.span, kind="int")
        if s.replace(".", "", 1).isdigit():
            return Value(float(s), v.span, kind="float")
    except ValueError:  # digits Python's int() does not read ("²"): LLaMA-Factory fails on them too
        pass
    return v
