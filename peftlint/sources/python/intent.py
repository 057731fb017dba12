"""What the code around a config says about its intent (``SourceFacts``), read statically.

- ``with pytest.raises(...)`` / ``pytest.warns(...)`` around the config call, or around a use of
  the variable it is assigned to: the test expects peft to fail (or warn) on this config.
- ``resize_token_embeddings`` called anywhere in the file: new tokens, so adapting the embedding
  and head is PEFT's documented recipe.
- ``config._register_custom_module({nn.LSTM: MyLoraLSTM})`` on that variable: peft wraps those
  module classes too (the key's class names; the list becomes None when a mapping cannot be read).
"""

from __future__ import annotations

import ast

from peftlint.sources.python.program import Program
from peftlint.spec import SourceFacts

_EXPECT = {"pytest.raises": "raises", "pytest.warns": "warns"}
_REGISTER = "_register_custom_module"


def read_intent(p: Program, call: ast.Call, facts: SourceFacts) -> None:
    # through the index of attributes by name: a scan of the text or of every call, once per config,
    # grows with the square of a file of many configs
    facts.resizes_embeddings = any(isinstance(parent := p.parent(a), ast.Call) and parent.func is a
                                   for a in p.attributes.get("resize_token_embeddings", ()))
    uses = _uses(p, call)
    for node in [call, *uses]:
        block = _expecting_block(p, node)
        if block is not None:
            item, kind = block
            facts.expects, facts.expects_line, facts.expects_kind = p.code(item, 70), item.lineno, kind
            break
    registered: list[str] | None = []
    for use in uses:
        parent = p.parent(use)
        owner = p.parent(parent) if parent is not None else None
        if not (isinstance(parent, ast.Attribute) and parent.attr == _REGISTER and isinstance(owner, ast.Call)
                and owner.func is parent):
            continue
        mapping = owner.args[0] if owner.args else None
        if not isinstance(mapping, ast.Dict) or any(k is None for k in mapping.keys) or registered is None:
            registered = None
            break
        registered.extend(_class_name(k) for k in mapping.keys if k is not None)
    facts.custom_modules = registered


def _uses(p: Program, call: ast.Call) -> list[ast.Name]:
    """Reads of the variable ``call`` is assigned to (``config = LoraConfig(...)``)."""
    stmt = p.parent(call)
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is not call:
        return []
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return []
    binding = p.scopes.binding_of(targets[0])
    return p.scopes.references(binding) if binding is not None else []


def _expecting_block(p: Program, node: ast.AST) -> tuple[ast.expr, str] | None:
    for a in p.ancestors(node):
        if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return None
        if isinstance(a, (ast.With, ast.AsyncWith)):
            for item in a.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    kind = next((k for q, k in _EXPECT.items() if q in p.qualified_names(expr.func)), None)
                    if kind is not None:
                        return expr, kind
    return None


def _class_name(node: ast.expr) -> str:
    """``nn.LSTM`` -> ``LSTM``; anything else: its source text."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ast.unparse(node)
