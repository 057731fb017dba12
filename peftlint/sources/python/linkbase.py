"""What the model linker passes around: call frames, model loads, found model names, budgets."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from peftlint.diagnostics import Span
from peftlint.sources.python.index import Arg, dotted_name
from peftlint.sources.python.program import Function, Program

MAX_STEPS = 16
MAX_CALL_SITES = 8
# Following values through call sites branches; one link gives up after this many steps.
BUDGET = 5000


@dataclass(frozen=True)
class Frame:
    """A call of a function of this file, binding its parameters while following a value; or,
    without a call, a method entered to read ``self.x`` for the runtime classes ``receivers``."""

    func: Function
    call: ast.Call | None
    receivers: tuple[ast.ClassDef, ...] = ()
    skip: int = 0  # parameters bound before the call's arguments (1: ``self`` of ``self.method(...)``)
    # a test entered from a row of its ``@pytest.mark.parametrize`` (the decorator, the row's index):
    # the other parameters of that decorator take the same row's values
    row: tuple[ast.Call, int] | None = None


Ctx = tuple[Frame, ...]


@dataclass(frozen=True)
class Load:
    """A call (or class instantiation) that creates the base model."""

    call: ast.Call
    # "transformers" | "unsloth" | "from_config" | "local" | "diffusers" | "diffusers_from_config" |
    # "pipeline" (a diffusers pipeline: the model is its attribute ``component``)
    kind: str
    cls: str  # the class as imported, canonical name: "AutoModelForCausalLM", "FastLanguageModel"
    ctx: Ctx
    component: str | None = None  # ``pipe.unet``: the pipeline's component, which is its repository folder


@dataclass(frozen=True)
class Component:
    """The part of a repository the code loads when its name cannot be read (a dynamic id with
    ``subfolder="unet"``, ``pipe.text_encoder``): what ``--model`` or a comment then stands for."""

    subfolder: str | None
    model_class: str | None
    library: str | None  # None: the class is chosen at runtime


@dataclass(frozen=True)
class RefFound:
    ref: str
    span: Span
    how: str | None = None  # None: the model call's own description is used
    from_default: bool = False
    note: str = ""


@dataclass(frozen=True)
class Namespace:
    """What ``X`` is in ``X.attr``: parsed argparse options, a dataclass (class) or an instance."""

    kind: str  # "argparse" | "class" | "instance"
    cls: str = ""
    call: ast.Call | None = None


class Budget:
    """Steps left for one link; shared by the parts of the linker."""

    def __init__(self) -> None:
        self.steps = 0

    def reset(self) -> None:
        self.steps = 0

    def exhausted(self) -> bool:
        self.steps += 1
        return self.steps > BUDGET


def arg_of(p: Program, call: ast.Call, index: int | None, keyword: str | None) -> ast.expr | None:
    """The argument passed as ``keyword=`` or at positional ``index``."""
    args = p.args(call)
    if keyword is not None:
        for a in args:
            if a.keyword == keyword:
                return a.value
    if index is None:
        return None
    i = 0
    for a in args:
        if a.keyword is not None or a.star == "**":
            continue
        if a.star:
            return None
        if i == index:
            return a.value
        i += 1
    return None


def position(p: Program, call: ast.Call, arg: Arg) -> int | None:
    """The positional index of ``arg`` at ``call`` (None for keywords and after ``*args``)."""
    if arg.keyword is not None or arg.star:
        return None
    i = 0
    for a in p.args(call):
        if a.keyword is not None or a.star == "**":
            continue
        if a is arg:
            return i
        if a.star:
            return None
        i += 1
    return None


def callee_name(call: ast.Call) -> str:
    name = dotted_name(call.func)
    if name is None:
        return "the call"
    return name.rsplit(".", 1)[-1]


def int_index(expr: ast.Subscript) -> int | None:
    value = expr.slice
    if isinstance(value, ast.Constant) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def rows_of(ctx: Ctx, func: ast.AST) -> dict[ast.Call, int]:
    """The parametrize rows the frames of ``ctx`` fix for ``func``."""
    return {f.row[0]: f.row[1] for f in ctx if f.row is not None and f.func is func}
