"""Forward from a PEFT config to the calls that apply it (``get_peft_model``, a trainer, ...).

The config's value is followed through variables, helper parameters, return values and
attributes of ``self`` set in a test class's setup, to every call that receives it as an argument.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from peftlint.sources.python.index import Arg
from peftlint.sources.python.link_pytest import Pytest
from peftlint.sources.python.link_self import ClassAttributes
from peftlint.sources.python.linkbase import (
    MAX_CALL_SITES,
    MAX_STEPS,
    Budget,
    Ctx,
    Frame,
    arg_of,
    callee_name,
    position,
)
from peftlint.sources.python.program import Program

Route = tuple[ast.AST, ...]
_PEFT_MODEL_CLASSES = frozenset({"PeftModel", "PeftMixedModel"})


def arg_for(p: Program, expr: ast.AST) -> tuple[ast.Call, Arg] | None:
    """The call that receives ``expr`` as an argument, and that argument."""
    parent = p.parent(expr)
    node = expr
    if isinstance(parent, (ast.keyword, ast.Starred)):
        node, parent = parent, p.parent(parent)
    if not isinstance(parent, ast.Call) or node is parent.func:
        return None
    for a in p.args(parent):
        if a.node is node:
            return parent, a
    return None


class ConfigFlow:
    def __init__(self, program: Program, budget: Budget, attributes: ClassAttributes, pytest: Pytest) -> None:
        self.p = program
        self.budget = budget
        self.attributes = attributes
        self.pytest = pytest
        # ``config.target_modules = ...`` met while following a config (reset by each ``consumers``)
        self.attribute_stores: list[ast.Attribute] = []

    def consumers(self, expr: ast.AST, ctx: Ctx = ()) -> Iterator[tuple[ast.Call, Arg, Ctx, Route]]:
        """Calls that receive the value of ``expr`` as an argument, in source order, each with the
        route the value took there (the expressions it passed through, ``expr`` first)."""
        self.attribute_stores = []
        yield from self._flow(expr, ctx, 0, set(), ())

    def _flow(self, expr: ast.AST, ctx: Ctx, depth: int, seen: set, route: Route) -> Iterator[tuple[ast.Call, Arg, Ctx, Route]]:
        key = (expr, ctx)
        if depth > MAX_STEPS or key in seen or self.budget.exhausted():
            return
        seen.add(key)
        route = route + (expr,)
        p = self.p
        parent = p.parent(expr)
        found = arg_for(p, expr)
        if isinstance(parent, ast.Attribute) and parent.value is expr and not isinstance(parent.ctx, ast.Load):
            self.attribute_stores.append(parent)  # the config is changed after it is built
        elif isinstance(parent, ast.IfExp) and expr is not parent.test:
            yield from self._flow(parent, ctx, depth + 1, seen, route)
        elif (row := self.pytest.row_of(expr)) is not None:
            # a value in a row of @pytest.mark.parametrize: what the test does with that parameter
            decorator, index, argname, tests = row
            for test in tests:
                param = next((a for a in self.p.positional_params(test) + test.args.kwonlyargs if a.arg == argname), None)
                binding = p.scopes.binding_of(param) if param is not None else None
                if binding is None:
                    continue
                inner = ctx + (Frame(test, None, row=(decorator, index)),)
                for ref in p.scopes.references(binding):
                    yield from self._flow(ref, inner, depth + 1, seen, route)
        elif found is not None:
            call, arg = found
            yield call, arg, ctx, route
            func = p.local_function(call.func)
            targets = [(func, (), 0)] if func is not None else self.attributes.called_methods(call.func, ctx)
            for target, receivers, skip in targets:
                param = p.param_for_argument(target, call, arg, skip)
                binding = p.scopes.binding_of(param) if param is not None else None
                if binding is not None:
                    inner = ctx + (Frame(target, call, receivers, skip),)
                    for ref in p.scopes.references(binding):
                        yield from self._flow(ref, inner, depth + 1, seen, route)
        elif isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is expr:
            assigned = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for to in assigned:
                if isinstance(to, ast.Attribute):
                    for read in self.attributes.reads(to):
                        yield from self._flow(read, (), depth + 1, seen, route)
                    continue
                if not isinstance(to, ast.Name):
                    continue
                binding = p.scopes.binding_of(to)
                if binding is None:
                    continue
                for ref in p.scopes.references(binding):
                    yield from self._flow(ref, ctx, depth + 1, seen, route)
        elif isinstance(parent, ast.Return) and parent.value is expr:
            func = p.enclosing_function(parent)
            if func is None:
                return
            if ctx and ctx[-1].func is func and ctx[-1].call is not None:
                yield from self._flow(ctx[-1].call, ctx[:-1], depth + 1, seen, route)
            else:
                for site in p.call_sites(func)[:MAX_CALL_SITES]:
                    yield from self._flow(site, (), depth + 1, seen, route)

    def consumer(self, call: ast.Call, arg: Arg) -> tuple[ast.expr | None, str, bool] | None:
        """If ``call`` applies the config passed as ``arg``: (model expression, label, is_trainer)."""
        p = self.p
        kw = arg.keyword
        pos = position(p, call, arg)
        qns = p.qualified_names(call.func)
        for qn in qns:
            parts = qn.split(".")
            if parts[0] != "peft":
                continue
            last = parts[-1]
            if last == "get_peft_model" or last in _PEFT_MODEL_CLASSES or last.startswith("PeftModelFor"):
                if kw == "peft_config" or pos == 1:
                    return arg_of(p, call, 0, "model"), f"{last}()", False
            elif last == "from_pretrained" and len(parts) >= 2 and (
                parts[-2] in _PEFT_MODEL_CLASSES or parts[-2].startswith("PeftModelFor")
            ):
                if kw == "config":
                    return arg_of(p, call, 0, "model"), f"{parts[-2]}.from_pretrained()", False
            elif last == "inject_adapter_in_model":
                if kw == "peft_config" or pos == 0:
                    return arg_of(p, call, 1, "model"), "inject_adapter_in_model()", False
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "add_adapter" and not qns:
            return func.value, "add_adapter()", False
        if kw == "peft_config":
            model = arg_of(p, call, None, "model")
            name = callee_name(call)
            if model is None and name.endswith("Trainer"):
                model = arg_of(p, call, 0, None)
            if model is not None:
                return model, f"{name}()", True
        return None
