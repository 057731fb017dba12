"""Calls in a statically read ``__init__``: what is called (local functions and classes, sibling
modules, torch, transformers) decides what the call builds. Any other call returns ``Unknown``, and the
modules passed to it become unknown (it may have changed them)."""

from __future__ import annotations

import ast
import math
import os
from typing import Any, Callable

from peftlint.model.static import torch_composites as composites
from peftlint.model.static import torch_layers as tl
from peftlint.model.static.static_builtins import Builtins
from peftlint.model.static.static_eval import describe, is_static
from peftlint.model.static.static_modules import READ_ONLY, SAME_MODULE, SuperMethod, shape_of, torch_name
from peftlint.model.static.static_values import (
    MISSING,
    BoundMethod,
    Builtin,
    ClassInfo,
    FileScope,
    Frame,
    FuncRef,
    ImportRef,
    MethodOf,
    Node,
    Pretrained,
    SuperRef,
    Tensor,
    Unknown,
    nodes_in,
)

_FACTORIES = frozenset({"zeros", "ones", "empty", "randn", "rand", "full", "eye", "zeros_like", "ones_like",
                        "empty_like", "randn_like", "rand_like", "full_like", "tensor", "Tensor", "FloatTensor",
                        "arange", "linspace", "randint", "normal", "as_tensor", "from_numpy", "stack", "cat"})
_MATH = frozenset({"sqrt", "ceil", "floor", "log", "log2", "log10", "exp", "pow", "prod", "gcd", "isqrt", "fabs"})
_SAFE_BUILTINS = frozenset({"print", "len", "isinstance", "hasattr", "getattr", "range", "int", "float", "str",
                            "bool", "super", "min", "max", "abs", "round", "sum", "list", "tuple", "dict",
                            "enumerate", "zip", "sorted", "reversed", "any", "all"})
_LIBRARIES = frozenset({"torch", "transformers", "peft", "math", "copy", "collections", "typing", "dataclasses",
                        "functools", "os", "sys", "numpy", "logging", "warnings", "einops", "diffusers", "timm",
                        "accelerate", "huggingface_hub", "safetensors", "itertools", "re", "json", "enum"})


class Calls(Builtins):
    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, FileScope | None] = {}  # may be shared by the interpreters of one run
        self.read: dict[str, None] = {}  # the files this interpreter used, in order
        self.reader: Callable[[str], ast.Module | None] = lambda path: None

    def call_function(self, func: FuncRef, args: list, kwargs: dict, complete: bool) -> Any:  # pragma: no cover
        raise NotImplementedError

    def set_attr(self, obj: Any, name: str, value: Any, f: Frame) -> None:  # pragma: no cover
        raise NotImplementedError

    def node_setattr(self, node: Node, name: str, value: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- files -----------------------------------------------------------------------------------

    def load_file(self, path: str) -> FileScope | None:
        path = os.path.normpath(path)
        if path not in self.files:
            tree = self.reader(path) if os.path.isfile(path) else None
            self.files[path] = FileScope(path, tree) if tree is not None else None
        if self.files[path] is not None:
            self.read.setdefault(path, None)
        return self.files[path]

    def deref(self, v: Any) -> Any:
        """An import of a sibling module's name becomes that name's value (torch's composite modules
        the classes of ``torch_composites``); other values stay."""
        if isinstance(v, ImportRef) and torch_name(v) in composites.NAMES:
            if composites.PATH not in self.files:
                self.files[composites.PATH] = FileScope(composites.PATH, composites.tree())
            scope, name = self.files[composites.PATH], torch_name(v)
            assert scope is not None and name is not None  # the composites' own module; v names one of them
            return scope.namespace.lookup(name, self.resolve_binding)
        if not isinstance(v, ImportRef) or (v.level == 0 and v.parts[0] in _LIBRARIES):
            return v
        base = v.file.directory
        for _ in range(max(v.level - 1, 0)):
            base = os.path.dirname(base)
        parts = v.parts
        for k in range(len(parts) - 1, -1, -1):
            rel = os.path.join(base, *parts[:k])
            for cand in ((rel + ".py",) if k else ()) + (os.path.join(rel, "__init__.py"),):
                if k == 0 and v.level == 0:
                    continue
                fs = self.load_file(cand)
                if fs is None:
                    continue
                got = fs.namespace.lookup(parts[k], self.resolve_binding)
                if got is MISSING:
                    return Unknown(f"`{parts[k]}` is not defined in {os.path.basename(cand)}")
                for attr in parts[k + 1:]:
                    got = self.getattr(self.deref(got), attr)
                return self.deref(got)
        return v

    # -- calls -----------------------------------------------------------------------------------

    def call(self, e: ast.Call, f: Frame) -> Any:
        fv = self.ev(e.func, f)
        args, kwargs, complete = self.arguments(e, f)
        return self.apply(fv, args, kwargs, complete, f, e)

    def arguments(self, e: ast.Call, f: Frame) -> tuple[list, dict, bool]:
        """The call's arguments; ``complete`` is False when ``*x`` / ``**y`` could not be read."""
        args: list = []
        kwargs: dict = {}
        complete = True
        for a in e.args:
            if isinstance(a, ast.Starred):
                items = self.iterate(self.ev(a.value, f))
                if isinstance(items, Unknown):
                    complete = False
                else:
                    args.extend(items)
            else:
                args.append(self.ev(a, f))
        for k in e.keywords:
            v = self.ev(k.value, f)
            if k.arg is not None:
                kwargs[k.arg] = v
            elif isinstance(v, dict) and all(isinstance(x, str) for x in v):
                kwargs.update(v)
            else:
                complete = False
        return args, kwargs, complete

    def apply(self, fv: Any, args: list, kwargs: dict, complete: bool, f: Frame, e: ast.Call) -> Any:
        fv = self.deref(fv)
        if isinstance(fv, ClassInfo):
            return self.instantiate(fv, args, kwargs, complete)
        if isinstance(fv, FuncRef):
            return self.call_function(fv, args, kwargs, complete)
        if isinstance(fv, BoundMethod):
            return self.call_function(fv.func, [fv.self_value, *args], kwargs, complete)
        if isinstance(fv, Builtin):
            return self.builtin(fv.name, args, kwargs, complete, f, e)
        if isinstance(fv, MethodOf):
            return self.method(fv.owner, fv.name, args, kwargs, complete)
        if isinstance(fv, SuperMethod):
            return self.super_call(fv, args, kwargs, complete)
        if isinstance(fv, ImportRef):
            return self.library(fv, args, kwargs, complete, e)
        self.poison(args, kwargs, f"`{describe(e)}` (line {e.lineno}) is not read statically")
        return fv if isinstance(fv, Unknown) else Unknown(f"`{describe(e.func)}` is not read statically")

    def poison(self, args: list, kwargs: dict, reason: str) -> None:
        """Modules passed to code the reader does not follow may have been changed by it."""
        for v in [*args, *kwargs.values()]:
            for node in nodes_in(v):
                node.make_opaque(reason)

    def getattr(self, base: Any, name: str, e: ast.AST | None = None) -> Any:
        if isinstance(base, SuperRef):
            return SuperMethod(base, name)
        if isinstance(base, ImportRef):
            resolved = self.deref(base)
            if resolved is not base:
                return self.getattr(resolved, name, e)
        return super().getattr(base, name, e)

    def safe_callee(self, v: Any) -> bool:
        """Calls that never change a module's structure."""
        if isinstance(v, Builtin):
            return v.name in _SAFE_BUILTINS
        if isinstance(v, ImportRef) and not v.level:
            p = v.parts
            return p[:3] in (("torch", "nn", "init"), ("torch", "nn", "functional")) or \
                p[0] in ("math", "logging", "warnings") or (p[0] == "torch" and len(p) == 2 and p[1] in _FACTORIES)
        if isinstance(v, MethodOf):
            return isinstance(v.owner, str) or (isinstance(v.owner, Node) and v.name in SAME_MODULE | READ_ONLY)
        return False

    def library(self, ref: ImportRef, args: list, kwargs: dict, complete: bool, e: ast.Call) -> Any:
        t = torch_name(ref)
        if t is not None:
            return self.torch_call(t, args, kwargs, complete, e)
        p = ref.parts if not ref.level else ("",)
        if p[0] == "torch" and len(p) == 2 and p[1] in _FACTORIES:
            return Tensor(self._factory_shape(p[1], args, kwargs))
        if p[:3] in (("torch", "nn", "init"), ("torch", "nn", "functional")):
            return Tensor(None)
        if p[0] == "math" and len(p) == 2 and p[1] in _MATH and all(is_static(a) for a in args) and complete:
            try:
                return getattr(math, p[1])(*args)
            except Exception:  # noqa: BLE001
                return Unknown(f"`{describe(e)}` cannot be computed")
        if p[0] == "copy" and len(p) == 2 and p[1] in ("copy", "deepcopy") and len(args) == 1:
            return self.clone(args[0], {})
        if p[0] == "collections" and p[-1] == "OrderedDict":
            return self.builtin("dict", args, kwargs, complete, Frame(ref.file.namespace), e)
        if p[0] == "transformers" and len(p) >= 3 and p[-1] in ("from_pretrained", "from_config"):
            name = args[0] if args else kwargs.get("pretrained_model_name_or_path")
            static = name if isinstance(name, str) and p[-1] == "from_pretrained" else None
            return Unknown(f"`{describe(e)}` (line {e.lineno}) loads a transformers model",
                           pretrained=Pretrained(static, p[-2], describe(e)))
        self.poison(args, kwargs, f"`{describe(e)}` (line {e.lineno}) is not read statically")
        return Unknown(f"`{ref.qual}()` (line {e.lineno}) is not read statically")

    def _factory_shape(self, name: str, args: list, kwargs: dict) -> list[int] | None:
        if name.endswith("_like"):
            return shape_of(args[0]) if args else None
        if name in ("zeros", "ones", "empty", "randn", "rand", "full", "Tensor", "FloatTensor"):
            dims: list | tuple | None = args[0] if args and isinstance(args[0], (list, tuple)) else args
            if name == "full":
                dims = args[0] if args and isinstance(args[0], (list, tuple)) else None
            if name in ("Tensor", "FloatTensor") and any(not isinstance(d, int) for d in dims or ()):
                return None
            if dims is None or kwargs.get("size") is not None:
                dims = kwargs.get("size", dims)
            if isinstance(dims, (list, tuple)):
                return [d if isinstance(d, int) and not isinstance(d, bool) else tl.UNKNOWN_DIM for d in dims]
        if name == "eye" and args:
            n = args[0]
            m = args[1] if len(args) > 1 else n
            return [d if isinstance(d, int) else tl.UNKNOWN_DIM for d in (n, m)]
        return None
