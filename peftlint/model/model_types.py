"""Which model types the installed transformers knows, read without importing it."""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
from pathlib import Path


def known_model_type(model_type: str) -> bool:
    """Whether the installed transformers has a config class for ``model_type``.

    Reads ``transformers/models/auto/auto_mappings.py`` (a generated file of name tables with no
    imports) and the few literal additions in ``configuration_auto.py``, so checking costs no
    import of transformers or torch. Falls back to the real ``CONFIG_MAPPING_NAMES`` when
    transformers is already imported or its files have another layout.
    """
    if "transformers.models.auto.configuration_auto" in sys.modules:
        return model_type in sys.modules["transformers.models.auto.configuration_auto"].CONFIG_MAPPING_NAMES
    names = _config_mapping_names()
    if names is None:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

        return model_type in CONFIG_MAPPING_NAMES
    return model_type in names


@functools.lru_cache(maxsize=1)
def _config_mapping_names() -> frozenset[str] | None:
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.origin:
        return None
    auto_dir = Path(spec.origin).parent / "models" / "auto"
    names: set[str] = set()
    for filename in ("auto_mappings.py", "configuration_auto.py"):
        try:
            tree = ast.parse((auto_dir / filename).read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            return None
        for stmt in tree.body:
            if _mentions(stmt, "CONFIG_MAPPING_NAMES"):
                names.update(_literal_str_keys(stmt))
    return frozenset(names) or None


def _mentions(stmt: ast.stmt, name: str) -> bool:
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == name
    return False


def _literal_str_keys(stmt: ast.stmt) -> set[str]:
    """String keys of the dict literals and ``[(key, value), ...]`` lists inside ``stmt``."""
    keys: set[str] = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Dict):
            keys.update(k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                keys.add(first.value)
    return keys
