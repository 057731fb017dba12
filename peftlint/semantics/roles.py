"""What each linear layer of a transformer block *does*: query/key/value/output projection, fused
qkv, MLP up/gate/down or fused gate+up.

Roles of the model's own layers are derived from the inventory's structure: the repeated blocks,
whether a layer sits under an attention container, and its in/out shapes (the hidden size is the
width most block layers read; a fused qkv is the only input projection of its attention and widens
the stream; the MLP's down projection reads the intermediate width and writes the hidden size).
Names are used only where shapes cannot decide (q vs k vs v of equal size, gate vs up).

Roles of names *from other architectures* (``query_key_value`` typed on a Llama script) cannot be
derived from the model being linted; ``ROLE_NAMES`` is that one hand-written table, checked
against the structural roles of the bundled models by ``tests/test_suggest.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics.matching import LINEAR_KINDS, entry_matches

Q, K, V, O, QKV = "q", "k", "v", "o", "qkv"
UP, GATE, DOWN, GATE_UP = "up", "gate", "down", "gate_up"
ATTENTION_ROLES = (Q, K, V, O, QKV)
MLP_ROLES = (GATE, UP, DOWN, GATE_UP)
ROLE_LABELS = {
    Q: "query projection", K: "key projection", V: "value projection", O: "attention output projection",
    QKV: "fused query/key/value projection", GATE: "MLP gate projection", UP: "MLP up projection",
    DOWN: "MLP down projection", GATE_UP: "fused MLP gate/up projection",
}

# Leaf names used by common architectures, by role (compared after lower-casing and dropping "_").
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    Q: ("q", "q_proj", "query", "wq", "to_q", "q_lin", "query_proj"),
    K: ("k", "k_proj", "key", "wk", "to_k", "k_lin", "key_proj"),
    V: ("v", "v_proj", "value", "wv", "to_v", "v_lin", "value_proj"),
    O: ("o", "o_proj", "out_proj", "to_out", "out_lin"),
    QKV: ("query_key_value", "qkv_proj", "qkv", "c_attn", "wqkv", "w_pack", "in_proj", "qkv_lin"),
    GATE: ("gate_proj", "w1", "wi_0"),
    UP: ("up_proj", "w3", "wi_1", "fc1", "c_fc", "dense_h_to_4h", "wi", "fc_in", "lin1"),
    DOWN: ("down_proj", "w2", "fc2", "dense_4h_to_h", "fc_out", "lin2"),
    GATE_UP: ("gate_up_proj",),
}

_DIGITS = re.compile(r"^\d+$")
_ATTN = re.compile(r"att", re.IGNORECASE)


def normalize(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def role_of_name(name: str) -> str | None:
    """The role a (leaf) name has in the architectures ``ROLE_NAMES`` knows, or None."""
    leaf = normalize(name.rsplit(".", 1)[-1])
    for role, names in ROLE_NAMES.items():
        if leaf in {normalize(n) for n in names}:
            return role
    return None


@dataclass(frozen=True)
class RoleEntry:
    role: str
    pattern: str  # module name with layer indices replaced by "*", first block only
    modules: tuple[str, ...]  # every module of the model with this pattern


def _pattern(name: str) -> str:
    return ".".join("*" if _DIGITS.match(p) else p for p in name.split("."))


def block_linears(inventory: Inventory) -> dict[str, list[ModuleInfo]]:
    """Linear layers inside repeated blocks, grouped by name pattern (``model.layers.*.mlp.up_proj``)."""
    groups: dict[str, list[ModuleInfo]] = {}
    for m in inventory.modules:
        if m.kind in LINEAR_KINDS and any(_DIGITS.match(p) for p in m.name.split(".")):
            groups.setdefault(_pattern(m.name), []).append(m)
    return groups


def _hidden_size(groups: dict[str, list[ModuleInfo]], block: str) -> int | None:
    widths = Counter(ms[0].in_features for p, ms in groups.items() if _block_of(p) == block and ms[0].in_features)
    return widths.most_common(1)[0][0] if widths else None


def _block_of(pattern: str) -> str:
    """The repeated block a pattern belongs to: everything up to its last ``*`` segment."""
    parts = pattern.split(".")
    last = max(i for i, p in enumerate(parts) if p == "*")
    return ".".join(parts[: last + 1])


def _attention_scope(pattern: str) -> str | None:
    """The outermost attention container below the block (``self_attn``, ``attention``, ...)."""
    parts = pattern.split(".")
    last = max(i for i, p in enumerate(parts) if p == "*")
    for i in range(last + 1, len(parts) - 1):
        if _ATTN.search(parts[i]):
            return ".".join(parts[: i + 1])
    return None


def derive_roles(inventory: Inventory) -> list[RoleEntry]:
    """The role of each repeated linear layer of ``inventory`` (layers whose role is unclear are left out)."""
    groups = block_linears(inventory)
    by_scope: dict[tuple[str, str], list[str]] = {}
    for pattern in groups:
        scope = _attention_scope(pattern)
        by_scope.setdefault(("attn", scope) if scope else ("mlp", _block_of(pattern)), []).append(pattern)
    roles: dict[str, str] = {}
    for (kind, scope), patterns in by_scope.items():
        hidden = _hidden_size(groups, _block_of(patterns[0]))
        shapes = {p: (groups[p][0].in_features, groups[p][0].out_features) for p in patterns}
        if kind == "attn":
            roles.update(_attention_roles(patterns, shapes, hidden))
        else:
            roles.update(_mlp_roles(patterns, shapes, hidden))
    return [RoleEntry(roles[p], p, tuple(m.name for m in groups[p])) for p in groups if p in roles]


def _leaf(pattern: str) -> str:
    return pattern.rsplit(".", 1)[-1]


def _attention_roles(patterns: list[str], shapes: dict, hidden: int | None) -> dict[str, str]:
    if len(patterns) < 2 or hidden is None:
        return {}
    # The output projection writes the hidden size; when several do, it is the one that does not
    # read it (Gemma-2: 4096 -> 3584), else the last one (Llama, OPT, BERT, T5, Whisper ...).
    writers = [p for p in patterns if shapes[p][1] == hidden]
    non_readers = [p for p in writers if shapes[p][0] != hidden]
    if len(patterns) == 2:
        wide = max(patterns, key=lambda p: shapes[p][1] or 0)
        other = next(p for p in patterns if p != wide)
        if (shapes[wide][1] or 0) > hidden and shapes[other][1] == hidden:
            return {wide: QKV, other: O}
        return {}
    out = non_readers[0] if len(non_readers) == 1 else (writers[-1] if writers else None)
    if out is None:
        return {}
    inputs = [p for p in patterns if p != out]
    result = {out: O}
    if len(inputs) != 3:
        return result
    named = {p: role_of_name(_leaf(p)) for p in inputs}
    if sorted(r for r in named.values() if r) == [K, Q, V]:
        result.update(named)
        return result
    # Grouped-query attention: the query projection is the one input wider than the others.
    widths = Counter(shapes[p][1] for p in inputs)
    q = [p for p in inputs if widths[shapes[p][1]] == 1 and shapes[p][1] == max(widths)]
    rest = [p for p in inputs if p not in q]
    if len(q) == 1:
        result.update({q[0]: Q, rest[0]: K, rest[1]: V})
    return result


def _mlp_roles(patterns: list[str], shapes: dict, hidden: int | None) -> dict[str, str]:
    if hidden is None:
        return {}
    downs = [p for p in patterns if shapes[p][1] == hidden and shapes[p][0] not in (None, hidden)]
    ups = [p for p in patterns if shapes[p][0] == hidden and (shapes[p][1] or 0) > hidden]
    if len(downs) != 1:
        return {}
    down = downs[0]
    inter = shapes[down][0]
    result = {down: DOWN}
    same = [p for p in ups if shapes[p][1] == inter]
    if len(same) == 1:
        result[same[0]] = UP
    elif len(same) == 2:
        gate = [p for p in same if "gate" in _leaf(p).lower() or role_of_name(_leaf(p)) == GATE]
        gate = gate or [same[0]]
        result.update({p: (GATE if p == gate[0] else UP) for p in same})
    elif not same:
        fused = [p for p in ups if shapes[p][1] == 2 * inter]
        if len(fused) == 1:
            result[fused[0]] = GATE_UP
    return result


def target_name(inventory: Inventory, modules: tuple[str, ...] | list[str]) -> str | None:
    """The shortest index-free suffix that reaches exactly ``modules`` as a list entry, if any."""
    wanted = set(modules)
    first = next(iter(modules), None)
    if first is None:
        return None
    parts = first.split(".")
    for n in range(1, len(parts) + 1):
        suffix = parts[-n:]
        if any(_DIGITS.match(p) for p in suffix):
            return None
        entry = ".".join(suffix)
        hits = {m.name for m in inventory.modules if entry_matches(entry, m.name)}
        if hits == wanted:
            return entry
        if not wanted <= hits:
            return None
    return None


def role_targets(inventory: Inventory) -> dict[str, list[str]]:
    """role -> the list entries that reach the modules with that role (leaf names where possible)."""
    entries = derive_roles(inventory)
    by_role: dict[str, list[str]] = {}
    all_by_role: dict[str, set[str]] = {}
    for e in entries:
        all_by_role.setdefault(e.role, set()).update(e.modules)
    for e in entries:
        # A leaf shared by several patterns of the same role (T5's encoder/decoder `q`) is one entry.
        leaf = _leaf(e.pattern)
        hits = {m.name for m in inventory.modules if entry_matches(leaf, m.name)}
        name = leaf if hits and hits <= all_by_role[e.role] else target_name(inventory, e.modules)
        if name and name not in by_role.setdefault(e.role, []):
            by_role[e.role].append(name)
    return by_role
