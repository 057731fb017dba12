"""Builtins and methods of plain values (lists, dicts, strings) in a statically read ``__init__``:
only pure computations on known values; anything else is ``Unknown``."""

from __future__ import annotations

import ast
from typing import Any, Callable

from peftlint.model.static.static_classes import Classes
from peftlint.model.static.static_eval import MAX_ITEMS, describe, is_static
from peftlint.model.static.static_values import (
    Builtin,
    ClassInfo,
    Frame,
    Node,
    Plain,
    SuperRef,
    Unknown,
    UnknownItems,
)

PURE_BUILTINS: dict[str, Callable] = {
    "int": int, "float": float, "bool": bool, "str": str, "abs": abs, "min": min, "max": max, "sum": sum,
    "round": round, "any": any, "all": all, "divmod": divmod, "pow": pow,
}
# builtins whose result is never a module, whatever their arguments
_NEVER_MODULES = frozenset({"len", "int", "float", "bool", "str", "abs", "round", "any", "all", "divmod", "pow", "sum",
                            "isinstance", "hasattr", "type", "range", "set", "frozenset"})
_STR_METHODS = frozenset({"format", "join", "upper", "lower", "strip", "lstrip", "rstrip", "replace", "split",
                          "startswith", "endswith", "title", "capitalize", "count", "find"})


class Builtins(Classes):
    def set_attr(self, obj: Any, name: str, value: Any, f: Frame) -> None:  # pragma: no cover
        raise NotImplementedError

    def builtin(self, name: str, args: list, kwargs: dict, complete: bool, f: Frame, e: ast.Call) -> Any:
        got = self._builtin(name, args, kwargs, complete, f, e)
        if isinstance(got, Unknown) and name in _NEVER_MODULES:
            return Plain(f"`{describe(e)}`")  # not known, but a number, a string, a bool or a type
        return got

    def _builtin(self, name: str, args: list, kwargs: dict, complete: bool, f: Frame, e: ast.Call) -> Any:
        if name == "print":
            return None
        if name == "super":
            if len(args) == 2:
                cls = self.deref(args[0])
                return SuperRef(args[1], cls if isinstance(cls, ClassInfo) else None)
            return SuperRef(f.self_value, f.klass)
        if not complete:
            return Unknown(f"`{describe(e)}` has arguments peftlint cannot read")
        if name in ("setattr", "delattr") and args:
            key = args[1] if len(args) > 1 else None
            if isinstance(key, str) and name == "setattr" and len(args) == 3:
                self.set_attr(args[0], key, args[2], f)
            elif isinstance(key, str) and isinstance(args[0], Node):
                for d in (args[0].children, args[0].params, args[0].attrs):
                    d.pop(key, None)
            elif isinstance(args[0], Node):
                args[0].make_opaque(f"`{describe(e)}` (line {e.lineno}) sets an attribute whose name is not static")
            elif isinstance(f.self_value, Node):
                f.self_value.make_opaque(f"`{describe(e)}` (line {e.lineno}) is not read statically")
            return None
        if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
            got = self.getattr(args[0], args[1])
            return got
        if name == "range":
            if all(isinstance(a, int) and not isinstance(a, bool) for a in args) and 1 <= len(args) <= 3 and not kwargs:
                r = range(*args)
                return r if len(r) <= MAX_ITEMS else Unknown("a range too long to unroll")
            return Unknown(f"`{describe(e)}` is not static")
        if name == "len" and len(args) == 1:
            v = args[0]
            if isinstance(v, (tuple, str, dict)) or (isinstance(v, list) and not isinstance(self.iterate(v), Unknown)):
                return len(v)
            if isinstance(v, Node) and not v.opaque and v.torch_base in ("ModuleList", "Sequential", "ModuleDict"):
                return sum(1 for c in v.children.values() if c is not None)
            return Unknown(f"`{describe(e)}` is not static")
        if name in ("list", "tuple", "reversed", "sorted", "enumerate", "zip"):
            return self._sequence(name, args, kwargs, e)
        if name == "dict":
            out: dict = {}
            if args:
                src = args[0]
                if isinstance(src, dict):
                    out.update(src)
                else:
                    items = self.iterate(src)
                    if isinstance(items, Unknown) or not all(isinstance(p, tuple) and len(p) == 2 for p in items):
                        return Unknown(f"`{describe(e)}` is not static")
                    out.update(items)
            out.update(kwargs)
            return out
        if name == "isinstance" and len(args) == 2 and is_static(args[0]):
            types = args[1] if isinstance(args[1], tuple) else (args[1],)
            if all(isinstance(t, Builtin) and t.name in PURE_BUILTINS for t in types):
                return isinstance(args[0], tuple(PURE_BUILTINS[t.name] for t in types))  # type: ignore[arg-type, misc]
        if name in PURE_BUILTINS:
            flat = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
            if all(is_static(a) for a in flat) and all(is_static(v) for v in kwargs.values()):
                try:
                    return PURE_BUILTINS[name](*args, **kwargs)
                except Exception:  # noqa: BLE001 - ValueError, TypeError
                    return Unknown(f"`{describe(e)}` cannot be computed")
        if name in ("set", "frozenset", "object"):
            return Plain(name)
        return Unknown(f"`{describe(e)}` is not static")

    def _sequence(self, name: str, args: list, kwargs: dict, e: ast.Call) -> Any:
        if not args:
            return [] if name == "list" else ()
        found = [self.iterate(a) for a in (args if name == "zip" else args[:1])]
        seqs = [s for s in found if not isinstance(s, Unknown)]
        if len(seqs) != len(found):
            return Unknown(f"`{describe(e)}` is not static")
        if name == "list":
            return list(seqs[0])
        if name == "tuple":
            return tuple(seqs[0])
        if name == "reversed":
            return list(reversed(seqs[0]))
        if name == "enumerate":
            start = args[1] if len(args) > 1 else kwargs.get("start", 0)
            return list(enumerate(seqs[0], start)) if isinstance(start, int) else Unknown("enumerate start")
        if name == "zip":
            return list(zip(*seqs))
        if all(is_static(x) for x in seqs[0]) and not kwargs:
            try:
                return sorted(seqs[0])
            except TypeError:
                pass
        return Unknown(f"`{describe(e)}` is not static")

    def method(self, owner: Any, name: str, args: list, kwargs: dict, complete: bool) -> Any:
        if isinstance(owner, Node):
            return self.node_method(owner, name, args, kwargs, complete)
        if not complete:
            if isinstance(owner, list) and name in ("append", "extend", "insert"):
                owner.append(UnknownItems("items passed through *args"))
            return Unknown(f"`.{name}()` with arguments peftlint cannot read")
        if isinstance(owner, list):
            if name == "append" and len(args) == 1:
                owner.append(args[0])
                return None
            if name == "extend" and len(args) == 1:
                items = self.iterate(args[0])
                owner.extend([UnknownItems("an unknown sequence")] if isinstance(items, Unknown) else items)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                owner.insert(args[0], args[1])
                return None
            if name == "copy":
                return list(owner)
            owner.append(UnknownItems(f"list.{name}()"))
            return Unknown(f"list.{name}()")
        if isinstance(owner, dict):
            if name in ("items", "keys", "values"):
                return list(getattr(owner, name)())
            if name == "get" and args and is_static(args[0]) and not isinstance(args[0], (list, dict)):
                return owner.get(args[0], args[1] if len(args) > 1 else None)
            if name == "update" and len(args) <= 1:
                if args and not isinstance(args[0], dict):
                    return Unknown("dict.update()")
                owner.update(*args, **kwargs)
                return None
            if name == "copy":
                return dict(owner)
            return Unknown(f"dict.{name}()")
        if isinstance(owner, str) and name in _STR_METHODS:
            flat = [x for a in args for x in (a if isinstance(a, (list, tuple)) else [a])]
            if all(is_static(a) for a in flat) and all(is_static(v) for v in kwargs.values()):
                try:
                    return getattr(owner, name)(*args, **kwargs)
                except Exception:  # noqa: BLE001
                    return Unknown(f"str.{name}() cannot be computed")
        return Unknown(f"`.{name}()` is not read statically")
