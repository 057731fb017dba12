"""What a fix does to a config call, said as operations on its arguments (no positions, no text).

A rule whose remedy is an argument describes it with these operations; ``fix/cst.py`` turns them
into a rewrite of the call with libcst (only under ``--fix``/``--diff`` or when edits are shown),
and ``fix/verify.py`` applies them to the literal values to ask peft and the rule whether the fixed
config is right before the fix is offered as safe. Values are plain literals (str, int, float, bool,
None, and lists/tuples/dicts of them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class OpKind(str, enum.Enum):
    SET_ARG = "set-arg"  # add the keyword argument, or replace its value
    REMOVE_ARG = "remove-arg"
    REPLACE_ITEM = "replace-item"  # replace item ``index`` by ``values`` (none: remove it)
    APPEND_ITEMS = "append-items"  # add ``values`` at the end of the list (the argument is created if absent)
    REMOVE_KEY = "remove-key"  # remove ``key`` from a dict argument


@dataclass(frozen=True)
class Op:
    """One edit a fix makes to a config's arguments (see ``OpKind``)."""

    kind: OpKind
    field: str
    value: Any = None  # SET_ARG
    index: int = -1  # REPLACE_ITEM: position in the list as written
    values: tuple[Any, ...] = ()  # REPLACE_ITEM, APPEND_ITEMS
    key: str = ""  # REMOVE_KEY

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "field": self.field, "value": _enc(self.value), "index": self.index,
                "values": [_enc(v) for v in self.values], "key": self.key}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Op":
        index = data["index"]
        if type(index) is not int or not isinstance(data["field"], str) or not isinstance(data["key"], str):
            raise TypeError("malformed fix operation")
        return cls(OpKind(data["kind"]), data["field"], _dec(data["value"]), index,
                   tuple(_dec(v) for v in data["values"]), data["key"])


def _enc(v: Any) -> Any:
    """JSON form that keeps tuples apart from lists (the cache stores fixes)."""
    if isinstance(v, tuple):
        return {"tuple": [_enc(x) for x in v]}
    if isinstance(v, list):
        return [_enc(x) for x in v]
    if isinstance(v, dict):
        return {"dict": [[k, _enc(x)] for k, x in v.items()]}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, list):
        return [_dec(x) for x in v]
    if isinstance(v, dict) and set(v) == {"tuple"}:
        return tuple(_dec(x) for x in v["tuple"])
    if isinstance(v, dict) and set(v) == {"dict"}:
        return {k: _dec(x) for k, x in v["dict"]}
    return v


# -- the same operations on literal values (for checking a fix before it is offered) --------------

class NotApplicable(Exception):
    """The operation does not fit the value (no such item, key or argument)."""


def apply_ops(args: dict[str, Any], ops: tuple[Op, ...] | list[Op]) -> dict[str, Any]:
    """``args`` (field -> literal value) after ``ops``; item positions refer to the values as written."""
    out = dict(args)
    # item replacements from the last position down, so that earlier positions stay valid
    ordered = sorted(ops, key=lambda o: (o.kind != OpKind.REPLACE_ITEM, -o.index))
    for op in ordered:
        if op.kind == OpKind.SET_ARG:
            out[op.field] = op.value
        elif op.kind == OpKind.REMOVE_ARG:
            if op.field not in out:
                raise NotApplicable(op.field)
            del out[op.field]
        elif op.kind == OpKind.REPLACE_ITEM:
            seq = out.get(op.field)
            if not isinstance(seq, (list, tuple, set)) or not 0 <= op.index < len(seq) or isinstance(seq, set):
                raise NotApplicable(op.field)
            items = list(seq)
            items[op.index:op.index + 1] = list(op.values)
            out[op.field] = tuple(items) if isinstance(seq, tuple) else items
        elif op.kind == OpKind.APPEND_ITEMS:
            seq = out.get(op.field)
            if seq is None:
                out[op.field] = list(op.values)
            elif isinstance(seq, (list, tuple)):
                items = list(seq) + list(op.values)
                out[op.field] = tuple(items) if isinstance(seq, tuple) else items
            else:
                raise NotApplicable(op.field)
        elif op.kind == OpKind.REMOVE_KEY:
            d = out.get(op.field)
            if not isinstance(d, dict) or op.key not in d:
                raise NotApplicable(op.field)
            out[op.field] = {k: v for k, v in d.items() if k != op.key}
    return out
