"""A parsed module with its scopes, plus what the readers ask about functions, calls and options."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from peftlint.sources.python.index import Arg, ModuleIndex
from peftlint.sources.python.scope import FUNCTIONS, Binding, Scopes

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, eq=False)
class ArgOption:
    """One ``parser.add_argument(...)`` call."""

    dest: str
    flag: str  # "--model_id", or the dest of a positional argument
    call: ast.Call
    default: ast.expr | None
    required: bool


def str_constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def is_main_guard(node: ast.If) -> bool:
    """``if __name__ == "__main__":``"""
    test = node.test
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    strings = [s for s in sides if str_constant(s) == "__main__"]
    return len(names) == 1 and len(strings) == 1


class Program(ModuleIndex):
    """One module: positions and parents (``ModuleIndex``), scopes, functions, options."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        super().__init__(tree, text)
        self.scopes = Scopes(self)
        self._arg_options: dict[str, list[ArgOption]] | None = None
        self._returns: dict[ast.AST, list[ast.Return]] = {}
        self._sites: dict[ast.AST, list[ast.Call]] = {}

    # ------------------------------------------------------------------ names (delegated)
    def qualified_names(self, node: ast.AST) -> set[str]:
        return self.scopes.qualified_names(node)

    def is_builtin(self, node: ast.AST, name: str) -> bool:
        return self.scopes.is_builtin(node, name)

    def latest_binding(self, name: ast.Name) -> Binding | None:
        return self.scopes.latest(name)

    def binding_node(self, expr: ast.AST) -> ast.AST | None:
        """The node that binds a bare name (target Name, ast.arg, def, class, import alias)."""
        if not isinstance(expr, ast.Name):
            return None
        b = self.scopes.latest(expr)
        return b.node if b is not None else None

    # ------------------------------------------------------------------------- functions
    def function_of_param(self, param: ast.arg) -> Function | None:
        args = self.parents.get(param)
        owner = self.parents.get(args) if args is not None else None
        return owner if isinstance(owner, FUNCTIONS) else None

    def local_function(self, func: ast.AST) -> Function | None:
        """The function of this file that a call's ``func`` (a bare name) refers to."""
        node = self.binding_node(func)
        return node if isinstance(node, FUNCTIONS) else None

    def local_class(self, func: ast.AST) -> ast.ClassDef | None:
        node = self.binding_node(func)
        return node if isinstance(node, ast.ClassDef) else None

    def call_sites(self, func: Function) -> list[ast.Call]:
        """Calls ``func(...)`` of a function by its bare name in this file, in source order."""
        found = self._sites.get(func)
        if found is None:
            binding = self.scopes.binding_of(func)
            found = []
            if binding is not None:
                for read in self.scopes.references(binding, filtered=False):
                    parent = self.parents.get(read)
                    if isinstance(parent, ast.Call) and parent.func is read:
                        found.append(parent)
            self._sites[func] = found
        return found

    def returns_of(self, func: Function) -> list[ast.Return]:
        """Return statements of ``func`` itself (not of nested functions, classes or lambdas)."""
        found = self._returns.get(func)
        if found is None:
            found = []
            stack: list[ast.AST] = list(func.body)
            while stack:
                n = stack.pop()
                if isinstance(n, ast.Return):
                    found.append(n)
                if isinstance(n, FUNCTIONS + (ast.ClassDef, ast.Lambda)):
                    continue
                stack.extend(ast.iter_child_nodes(n))
            found.sort(key=self.start)
            self._returns[func] = found
        return found

    @staticmethod
    def positional_params(func: Function | ast.Lambda) -> list[ast.arg]:
        return list(func.args.posonlyargs) + list(func.args.args)

    @staticmethod
    def param_default(func: Function | ast.Lambda, param: ast.arg) -> ast.expr | None:
        a = func.args
        positional = list(a.posonlyargs) + list(a.args)
        for i, p in enumerate(positional):
            if p is param:
                j = i - (len(positional) - len(a.defaults))
                return a.defaults[j] if j >= 0 else None
        for p, d in zip(a.kwonlyargs, a.kw_defaults):
            if p is param:
                return d
        return None

    def bind_argument(self, func: Function, call: ast.Call, param: ast.arg, skip: int = 0) -> ast.expr | None:
        """The argument expression ``call`` passes for ``param`` (None when not passed or unknown);
        ``skip`` leading parameters are bound already (``self`` of a method called on an instance)."""
        args = self.args(call)
        for arg in args:
            if arg.keyword == param.arg:
                return arg.value
        positional = self.positional_params(func)[skip:]
        index = next((i for i, p in enumerate(positional) if p is param), None)
        if index is None:
            return None
        pos_args = []
        for arg in args:
            if arg.keyword is not None or arg.star == "**":
                continue
            if arg.star:
                return None  # *args: position unknown from here on
            pos_args.append(arg.value)
        return pos_args[index] if index < len(pos_args) else None

    def param_for_argument(self, func: Function, call: ast.Call, arg: Arg, skip: int = 0) -> ast.arg | None:
        """The parameter of ``func`` that receives ``arg`` at ``call``."""
        a = func.args
        if arg.star:
            return None
        if arg.keyword is not None:
            for p in list(a.posonlyargs) + list(a.args) + list(a.kwonlyargs):
                if p.arg == arg.keyword:
                    return p
            return None
        index = 0
        for other in self.args(call):
            if other.star == "*":
                return None
            if other.keyword is not None or other.star:
                continue
            if other is arg:
                break
            index += 1
        positional = self.positional_params(func)[skip:]
        return positional[index] if index < len(positional) else None

    # ---------------------------------------------------------------- argparse, dataclasses
    @property
    def arg_options(self) -> dict[str, list[ArgOption]]:
        if self._arg_options is None:
            self._arg_options = self._collect_arg_options()
        return self._arg_options

    def _collect_arg_options(self) -> dict[str, list[ArgOption]]:
        options: dict[str, list[ArgOption]] = {}
        for call in self.calls:
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr == "add_argument"):
                continue
            flags = []
            dest = None
            default: ast.expr | None = None
            required = False
            nargs_optional = False
            for arg in self.args(call):
                if arg.star:
                    continue
                if arg.keyword is None:
                    flag = str_constant(arg.value)
                    if flag is not None:
                        flags.append(flag)
                    continue
                key = arg.keyword
                if key == "dest" and str_constant(arg.value) is not None:
                    dest = str_constant(arg.value)
                elif key == "default":
                    default = arg.value
                elif key == "required":
                    required = isinstance(arg.value, ast.Constant) and arg.value.value is True
                elif key == "nargs" and str_constant(arg.value) is not None:
                    nargs_optional = str_constant(arg.value) in ("?", "*")
            if not flags:
                continue
            long_flags = [f for f in flags if f.startswith("--")]
            dashed = [f for f in flags if f.startswith("-")]
            if dest is None:
                if long_flags:
                    dest = long_flags[0][2:].replace("-", "_")
                elif dashed:
                    dest = dashed[0].lstrip("-").replace("-", "_")
                else:
                    dest = flags[0]
            if not dashed:
                required = not (nargs_optional and default is not None)
            flag = (long_flags or dashed or flags)[0]
            options.setdefault(dest, []).append(ArgOption(dest, flag, call, default, required))
        return options

    def class_field(
        self, class_name: str, attr: str, _seen: frozenset[str] = frozenset()
    ) -> tuple[ast.ClassDef, ast.stmt, ast.expr | None] | None:
        """A class-body field ``attr`` (``x: T = v`` or ``x = v``) of a class defined in this file,
        looked up through base classes defined in this file."""
        if class_name in _seen:
            return None
        for cls in self.classes.get(class_name, ()):
            found = class_body_field(cls, attr)
            if found is not None:
                return cls, found[0], found[1]
            for base in cls.bases:
                if isinstance(base, ast.Name):
                    inherited = self.class_field(base.id, attr, _seen | {class_name})
                    if inherited is not None:
                        return inherited
        return None

    def field_classes(self, attr: str) -> list[str]:
        """Classes of this file with a field called ``attr``."""
        return [name for name in self.classes if self.class_field(name, attr) is not None]


def class_body_field(cls: ast.ClassDef, attr: str) -> tuple[ast.stmt, ast.expr | None] | None:
    """``attr = v`` or ``attr: T = v`` directly in the body of ``cls``."""
    for stmt in cls.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == attr:
            return stmt, stmt.value
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name) and t.id == attr:
                    return stmt, stmt.value
    return None
