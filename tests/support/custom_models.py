"""nn.Module classes written as source text: built for real (exec'd, instantiated on the meta
device) and read statically by peftlint, so the two trees can be compared."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from peftlint.model.static.module_tree import StaticTree, local_tree


@dataclass
class RealTree:
    modules: list  # ModuleInfo, as peftlint.model.record records a real model
    layer_lists: dict
    aliases: dict
    tied: list


def real_model(source: str, expr: str, extra: dict | None = None):
    """``eval(expr)`` after exec'ing ``source``, on the meta device (``extra`` adds names)."""
    import sys
    import types

    import torch

    module = types.ModuleType("custom_models_under_test")  # dataclasses look their module up
    module.__dict__.update(extra or {})
    sys.modules[module.__name__] = module
    try:
        exec(compile(source, "<custom models>", "exec"), module.__dict__)
        with torch.device("meta"):
            return eval(expr, module.__dict__)
    finally:
        sys.modules.pop(module.__name__, None)


def real_tree(model) -> RealTree:
    from peftlint.model import record

    named = list(model.named_modules())
    modules = [record._module_info(name, m) for name, m in named if name]
    return RealTree(modules, record._layer_lists(named), record._module_aliases(model, named),
                    record._tied_groups(model))


def static_tree(tmp_path: Path, source: str, class_name: str, *, line: int | None = None,
                filename: str = "train.py", pretrained=None) -> StaticTree:
    path = tmp_path / filename
    path.write_text(source, encoding="utf-8")
    return local_tree(str(path), source, class_name, line=line, display=filename, pretrained=pretrained)


def lint_local(tmp_path: Path, source: str, class_name: str, config_src: str, *, library: str = "local",
               linter=None):
    """Lint the last config of ``source + config`` with its model given as the local class
    (``linter``: reuse one ``Linter`` across calls). Returns (findings, SpecOutcome)."""
    from peftlint.config import Settings
    from peftlint.diagnostics import Span
    from peftlint.engine.run import Linter, SpecOutcome
    from peftlint.sources.python import extract_python
    from peftlint.spec import ModelRef

    text = f"{source}\n\nconfig = {config_src}\nmodel = get_peft_model({class_name}(), config)\n"
    path = tmp_path / "train.py"
    path.write_text(text, encoding="utf-8")
    linter = linter or Linter(Settings(), cwd=tmp_path)
    spec = extract_python(text, "train.py", str(path), linter.config_classes()).specs[-1]
    line = line_of(text, f"get_peft_model({class_name}()")
    spec.model = ModelRef(ref=class_name, how=f"{class_name}() at line {line}", span=Span(line, 24, line, 36),
                          library=library)
    outcome = SpecOutcome(spec)
    diags = linter.lint_spec(spec, text, outcome)
    return diags, outcome


def line_of(source: str, text: str) -> int:
    """1-based line of the first line of ``source`` containing ``text``."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def classes_in(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]


def assert_same_tree(tree: StaticTree, model) -> None:
    """The static inventory is complete and records exactly what the real model holds."""
    assert tree.inventory is not None, tree.reason
    inv = tree.inventory
    assert inv.unknown == [], tree.reason
    real = real_tree(model)
    assert [m.name for m in inv.modules] == [m.name for m in real.modules]
    for got, want in zip(inv.modules, real.modules):
        assert got == want, f"{got}\n!=\n{want}"
    assert inv.layer_lists == real.layer_lists
    assert inv.module_aliases == real.aliases
    assert sorted(map(sorted, inv.tied_weights)) == sorted(map(sorted, real.tied))


def assert_known_part_agrees(tree: StaticTree, model) -> None:
    """A partial tree: every module it lists exists in the real model with the same facts, outside
    the unknown subtrees; every real module it does not list lies in an unknown subtree."""
    inv = tree.inventory
    assert inv is not None and inv.unknown, tree.reason
    real = {m.name: m for m in real_tree(model).modules}

    def in_unknown(name: str) -> bool:
        return any(name == u or name.startswith(u + ".") for u in inv.unknown)

    for m in inv.modules:
        assert m.name in real, m.name
        if not in_unknown(m.name):
            assert m == real[m.name] or m.name in inv.unknown, f"{m}\n!=\n{real[m.name]}"
    listed = {m.name for m in inv.modules}
    assert all(in_unknown(n) for n in real if n not in listed), [n for n in real if n not in listed]
