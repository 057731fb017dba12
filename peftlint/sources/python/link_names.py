"""The model name passed to ``from_pretrained`` (or a trainer's ``model=``), resolved statically.

Strings and constants; parameters bound at the call being followed, at the first call site, by
pytest (``parametrize``, fixtures) or by their default; argparse option defaults;
HfArgumentParser dataclass field defaults; ``os.environ``/``getenv`` defaults; ``self.x`` through
the enclosing class. Several candidates (pytest parameters, subclasses) are all returned.
"""

from __future__ import annotations

import ast

from peftlint.sources.python.bindings import Binding
from peftlint.sources.python.evaluate import ValueResolver
from peftlint.sources.python.link_paths import bindings_on_route
from peftlint.sources.python.link_pytest import Parameters, Pytest
from peftlint.sources.python.link_self import ClassAttributes, not_none
from peftlint.sources.python.linkbase import (
    MAX_CALL_SITES,
    MAX_STEPS,
    Budget,
    Ctx,
    Frame,
    Namespace,
    RefFound,
    arg_of,
    callee_name,
    int_index,
    rows_of,
)
from peftlint.sources.python.program import Function, Program
from peftlint.sources.python.scope import FUNCTIONS

_DATACLASS_PARSES = frozenset(
    {"parse_args_into_dataclasses", "parse_yaml_file", "parse_json_file", "parse_dict", "parse_args_and_config"}
)

Found = list[RefFound]


class NameResolver:
    def __init__(self, program: Program, values: ValueResolver, budget: Budget, attributes: ClassAttributes,
                 pytest: Pytest) -> None:
        self.p = program
        self.values = values
        self.budget = budget
        self.attributes = attributes
        self.pytest = pytest
        # the config's route to the call whose model is resolved (see ``link_paths``; set by the linker)
        self.route: tuple[ast.AST, ...] = ()

    def describe_attribute(self, expr: ast.Attribute) -> str | None:
        """Why ``args.x`` is dynamic, when ``args`` holds parsed command-line arguments."""
        saved, self.budget.steps = self.budget.steps, 0
        try:
            ns = self.namespace(expr.value, (), 0, ())
        finally:
            self.budget.steps = saved
        if ns is None:
            return None
        if ns.kind == "argparse" and expr.attr in self.p.arg_options:
            return f"set at runtime by {self.p.arg_options[expr.attr][0].flag} (argparse)"
        if ns.kind in ("class", "instance") and ns.cls:
            return f"set at runtime by {ns.cls}.{expr.attr}"
        return None

    # --------------------------------------------------------------------------- the name
    def resolve(self, expr: ast.expr, ctx: Ctx, depth: int) -> Found | str:
        p = self.p
        v = self.values.value(expr)
        if v.is_str:
            return [RefFound(v.value, v.span)]
        if not v.dynamic:
            return f"the model name {p.code(expr)} is not a string"
        if depth > MAX_STEPS or self.budget.exhausted():
            return v.reason
        if isinstance(expr, ast.Name):
            found: list[RefFound] = []
            failure = ""
            for b in bindings_on_route(p, expr, self.route):  # each name the config may meet
                res = self._binding(b, ctx, depth, v.reason)
                if isinstance(res, str):
                    failure = failure or res
                else:
                    found.extend(f for f in res if all(f.ref != o.ref for o in found))
            return found or failure or v.reason
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, ctx, depth)
        if isinstance(expr, ast.Call):
            env = self._environment(expr)
            if env is not None:
                return env
        if isinstance(expr, ast.Subscript):
            for qn in p.qualified_names(expr.value):
                if qn == "os.environ":
                    index = expr.slice
                    key = self.values.value(index) if not isinstance(index, (ast.Slice, ast.Tuple)) else None
                    name = key.value if key is not None and key.is_str else "?"
                    return f"the model comes from the environment variable {name}, which has no default"
                if qn == "sys.argv":
                    return f"the model comes from the command line ({p.code(expr)})"
        return v.reason

    def _binding(self, b: Binding, ctx: Ctx, depth: int, reason: str) -> Found | str:
        if b.kind == "param" and isinstance(b.node, ast.arg):
            return self._param(b.node, ctx, depth)
        if isinstance(b.node, ast.Name) and b.value is not None and b.kind in ("assign", "annassign", "walrus"):
            value = b.value
            for i in b.path:
                if isinstance(value, (ast.Tuple, ast.List)) and i < len(value.elts):
                    value = value.elts[i]
                else:
                    return reason
            return self.resolve(value, ctx, depth + 1)
        return reason

    def _param(self, param: ast.arg, ctx: Ctx, depth: int) -> Found | str:
        p = self.p
        func = p.function_of_param(param)
        pname = param.arg
        if func is None:
            return f"the model comes from the lambda argument '{pname}'"
        fname = f"{func.name}()"
        if ctx and ctx[-1].func is func and ctx[-1].call is not None:
            call = ctx[-1].call
            arg = p.bind_argument(func, call, param, ctx[-1].skip) if call is not None else None
            if arg is not None and call is not None:
                return self._with_note(self.resolve(arg, ctx[:-1], depth + 1), pname, call, 1)
        else:
            sites = p.call_sites(func)
            if sites:
                first = sites[0]
                arg = p.bind_argument(func, first, param)
                if arg is not None:
                    return self._with_note(self.resolve(arg, (), depth + 1), pname, first, len(sites))
            supplied = self.supplied(func, pname, rows_of(ctx, func))
            if supplied is not None:
                return self.resolve_each(supplied, depth, pname)
        default = p.param_default(func, param)
        if default is None:
            return f"argument '{pname}' of {fname} has no default"
        d = self.values.value(default)
        if d.is_str:
            how = f"default of parameter {pname} of {fname} at line {p.line(param)}"
            return [RefFound(d.value, d.span, how=how, from_default=True)]
        if not d.dynamic and d.value is None:
            return f"argument '{pname}' of {fname} defaults to None"
        return self.resolve(default, (), depth + 1)

    def supplied(self, func: Function, pname: str, rows: dict[ast.Call, int] | None = None) -> Parameters | str | None:
        """What pytest passes to ``pname``: parametrize values, or a fixture's results."""
        got = self.pytest.parametrized(func, pname, rows)
        if got is not None:
            return got
        if not self.pytest.receives_fixtures(func):
            return None
        fixture = self.pytest.fixture(func, pname)
        if fixture is None:
            return None
        results = self.pytest.results(fixture)
        if not results:
            return f"fixture {fixture.name}() returns nothing visible"
        return Parameters(tuple(results), fixture, f"fixture {fixture.name}()")

    def resolve_each(self, supplied: Parameters | str, depth: int, label: str, frame: Frame | None = None) -> Found | str:
        """Every listed value must name a model (else the reason of the first that does not)."""
        if isinstance(supplied, str):
            return supplied
        out: Found = []
        ctx: Ctx = (frame,) if frame is not None else ()
        if isinstance(supplied.where, FUNCTIONS):
            ctx = (Frame(supplied.where, None),)
        for value in supplied.values:
            found = self.resolve(value, ctx, depth + 1)
            if isinstance(found, str):
                return found
            for f in found:
                # the innermost source is the one to name (a fixture that returns another's params)
                note = f.note or f"{label} from {supplied.source} at line {self.p.line(supplied.where)}"
                out.append(RefFound(f.ref, f.span, f.how, f.from_default, note))
        return _unique(out)

    def _with_note(self, found: Found | str, pname: str, call: ast.Call, n_sites: int) -> Found | str:
        if isinstance(found, str):
            return found
        line = self.p.line(call)
        where = f"the call at line {line}" if n_sites == 1 else f"the first of {n_sites} calls, at line {line}"
        out = []
        for f in found:
            if f.from_default:
                out.append(f)
                continue
            note = f"{pname} from {where}"
            out.append(RefFound(f.ref, f.span, f.how, f.from_default, f"{f.note}; {note}" if f.note else note))
        return out

    def _environment(self, call: ast.Call) -> Found | str | None:
        p = self.p
        if not p.qualified_names(call.func) & {"os.getenv", "os.environ.get"}:
            return None
        key_expr = arg_of(p, call, 0, "key")
        key = self.values.value(key_expr) if key_expr is not None else None
        name = key.value if key is not None and key.is_str else "?"
        default = arg_of(p, call, 1, "default")
        if default is None:
            return f"the model comes from the environment variable {name}, which has no default"
        d = self.values.value(default)
        if d.is_str:
            how = f"default of environment variable {name} at line {p.line(call)}"
            return [RefFound(d.value, d.span, how=how, from_default=True)]
        return f"the model comes from the environment variable {name}, whose default is {p.code(default)}"

    def _attribute(self, expr: ast.Attribute, ctx: Ctx, depth: int) -> Found | str:
        p = self.p
        attr = expr.attr
        fixture = self.pytest.request_param(expr)
        if fixture is not None:
            params = self.pytest.fixture_params(fixture)
            if params is not None:
                return self.resolve_each(params, depth, f"{fixture.name}")
        owner = self.attributes.owner(expr.value)
        if owner is not None:
            return self._self_attribute(expr, owner[1], ctx, depth)
        ns = self.namespace(expr.value, ctx, depth, ())
        if ns is not None:
            if ns.kind == "argparse" and attr in p.arg_options:
                return self._argparse_default(attr)
            if ns.kind == "class":
                return self._field_default(ns.cls, attr)
            if ns.kind == "instance" and ns.call is not None:
                passed = arg_of(p, ns.call, None, attr)
                if passed is not None:
                    return self.resolve(passed, ctx, depth + 1)
                return self._field_default(ns.cls, attr)
        # the namespace is not visible (e.g. a parameter nobody passes here): look the name up
        if attr in p.arg_options:
            return self._argparse_default(attr)
        classes = p.field_classes(attr)
        if classes:
            return self._field_default(classes[0], attr)
        return f"{p.code(expr)} is only known at runtime"

    def _self_attribute(self, expr: ast.Attribute, method: ast.AST, ctx: Ctx, depth: int) -> Found | str:
        p = self.p
        receivers = ctx[-1].receivers if ctx and ctx[-1].func is method else ()
        found_values = not_none(self.attributes.values(expr, receivers) or [])
        if not found_values:
            return f"{p.code(expr)} is not set in its class or the bases of its class in this file"
        out: Found = []
        for av in found_values:
            if av.value is None:
                return f"{p.code(expr)} is set at runtime (line {p.line(av.statement)})"
            setup = p.enclosing_function(av.statement)
            inner: Ctx = (Frame(setup, None, av.receivers),) if setup is not None else ()
            found = self.resolve(av.value, inner, depth + 1)
            if isinstance(found, str):
                return found
            if len(found_values) > 1:
                label = ", ".join(c.name for c in av.receivers)
                found = [RefFound(f.ref, f.span, f.how, f.from_default,
                                  f"{f.note}; {expr.attr} of {label}" if f.note else f"{expr.attr} of {label}")
                         for f in found]
            out.extend(found)
        return _unique(out)

    def _argparse_default(self, dest: str) -> Found | str:
        p = self.p
        opt = p.arg_options[dest][0]
        if opt.required or opt.default is None:
            return f"the model comes from {opt.flag}, which has no default"
        d = self.values.value(opt.default)
        if d.is_str:
            how = f"default of {opt.flag} (argparse) at line {p.line(opt.call)}"
            return [RefFound(d.value, d.span, how=how, from_default=True)]
        if not d.dynamic and d.value is None:
            return f"the model comes from {opt.flag}, whose default is None"
        return f"the model comes from {opt.flag}, whose default is computed at runtime"

    def _field_default(self, cls_name: str, attr: str) -> Found | str:
        p = self.p
        found = p.class_field(cls_name, attr)
        if found is None:
            return f"the model comes from {cls_name}.{attr}, which is not defined in this file"
        cls, stmt, value = found
        label = f"{cls.name}.{attr}"
        if isinstance(value, ast.Call) and callee_name(value) == "field":
            if arg_of(p, value, None, "default_factory") is not None:
                return f"the model comes from {label}, whose default is computed at runtime"
            value = arg_of(p, value, None, "default")
        if value is None:
            return f"the model comes from {label}, which has no default"
        d = self.values.value(value)
        if d.is_str:
            return [RefFound(d.value, d.span, how=f"default of {label} at line {p.line(stmt)}", from_default=True)]
        if not d.dynamic and d.value is None:
            return f"the model comes from {label}, whose default is None"
        return f"the model comes from {label}, whose default is computed at runtime"

    # --------------------------------------------------------------- parsed command lines
    def namespace(self, expr: ast.expr, ctx: Ctx, depth: int, path: tuple[int, ...]) -> Namespace | None:
        """What kind of object ``expr`` is, when it holds parsed command-line arguments."""
        p = self.p
        if depth > MAX_STEPS or self.budget.exhausted():
            return None
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute):
                method = func.attr
                if method == "parse_args" and path == ():
                    return Namespace("argparse")
                if method == "parse_known_args" and path[:1] == (0,):
                    return Namespace("argparse")
                if method in _DATACLASS_PARSES and len(path) >= 1:
                    classes = self._parser_classes(func.value)
                    if path[0] < len(classes):
                        return Namespace("class", classes[path[0]])
                    return None
            if isinstance(func, ast.Name) and path == ():
                node = p.binding_node(func)
                if isinstance(node, ast.ClassDef):
                    return Namespace("instance", node.name, expr)
                if isinstance(node, FUNCTIONS):
                    for ret in p.returns_of(node):
                        if ret.value is not None:
                            ns = self.namespace(ret.value, ctx + (Frame(node, expr),), depth + 1, path)
                            if ns is not None:
                                return ns
            return None
        if isinstance(expr, ast.Subscript):
            i = int_index(expr)
            return None if i is None else self.namespace(expr.value, ctx, depth + 1, (i,) + path)
        if isinstance(expr, (ast.Tuple, ast.List)) and path:
            els = expr.elts
            if path[0] < len(els) and not isinstance(els[path[0]], ast.Starred):
                return self.namespace(els[path[0]], ctx, depth + 1, path[1:])
            return None
        if isinstance(expr, ast.Name):
            b = p.latest_binding(expr)
            if b is not None and b.kind == "param" and isinstance(b.node, ast.arg):
                param = b.node
                ann = param.annotation
                if isinstance(ann, ast.Name) and ann.id in p.classes and path == ():
                    return Namespace("class", ann.id)
                owner = p.function_of_param(param)
                if owner is None:
                    return None
                if ctx and ctx[-1].func is owner and ctx[-1].call is not None:
                    call = ctx[-1].call
                    arg = p.bind_argument(owner, call, param, ctx[-1].skip) if call is not None else None
                    return None if arg is None else self.namespace(arg, ctx[:-1], depth + 1, path)
                for site in p.call_sites(owner)[:MAX_CALL_SITES]:
                    arg = p.bind_argument(owner, site, param)
                    if arg is not None:
                        ns = self.namespace(arg, (), depth + 1, path)
                        if ns is not None:
                            return ns
                return None
            if b is not None and isinstance(b.node, ast.Name) and b.value is not None and b.kind in (
                "assign", "annassign", "walrus"
            ):
                return self.namespace(b.value, ctx, depth + 1, b.path + path)
        return None

    def _parser_classes(self, parser: ast.expr) -> list[str]:
        """Dataclass names given to ``HfArgumentParser((A, B, C))`` (or TrlParser)."""
        p = self.p
        for _ in range(MAX_STEPS):
            if isinstance(parser, ast.Name):
                b = p.latest_binding(parser)
                if b is None or not isinstance(b.node, ast.Name) or b.value is None or b.path:
                    return []
                parser = b.value
                continue
            break
        if not isinstance(parser, ast.Call):
            return []
        types = arg_of(p, parser, 0, "dataclass_types")
        if isinstance(types, (ast.Tuple, ast.List)):
            return [e.id if isinstance(e, ast.Name) else "" for e in types.elts]
        if isinstance(types, ast.Name):
            return [types.id]
        return []


def _unique(found: Found) -> Found:
    """One candidate per model name, in order."""
    out: Found = []
    for f in found:
        if all(f.ref != g.ref for g in out):
            out.append(f)
    return out
