"""What each linear layer of a transformer block *does*: query/key/value/output projection, fused
qkv, MLP up/gate/down or fused gate+up.

Roles of the model's own layers are derived from the inventory's structure: the repeated blocks,
whether a layer sits under an attention container, and its in/out shapes (the hidden size is the
width most block layers read; a fused qkv is the only input projection of its attention and widens
the stream; the MLP's down projection reads the intermediate width and writes the hidden size).
Names are used only where shapes cannot decide (q vs k vs v of equal size, gate vs up, the two
streams of a diffusion transformer's joint attention, whose projections all have one shape).

A numbered ModuleList is a stack of repeated blocks unless it is a small sequence of different
layers (diffusers' ``to_out = [Linear, Dropout]``, ``ff.net = [GEGLU, Dropout, Linear]``): such a
"positional" index is part of the layer's name (``to_out.0``), never a layer number.

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
ROLE_LABELS = {
    Q: "query projection", K: "key projection", V: "value projection", O: "attention output projection",
    QKV: "fused query/key/value projection", GATE: "MLP gate projection", UP: "MLP up projection",
    DOWN: "MLP down projection", GATE_UP: "fused MLP gate/up projection",
}

# Leaf names used by common architectures, by role (compared after lower-casing and dropping "_").
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    Q: ("q", "q_proj", "query", "wq", "to_q", "q_lin", "query_proj", "add_q_proj"),
    K: ("k", "k_proj", "key", "wk", "to_k", "k_lin", "key_proj", "add_k_proj"),
    V: ("v", "v_proj", "value", "wv", "to_v", "v_lin", "value_proj", "add_v_proj"),
    O: ("o", "o_proj", "out_proj", "to_out", "out_lin", "to_add_out"),
    QKV: ("query_key_value", "qkv_proj", "qkv", "c_attn", "wqkv", "w_pack", "in_proj", "qkv_lin"),
    GATE: ("gate_proj", "w1", "wi_0"),
    UP: ("up_proj", "w3", "wi_1", "fc1", "c_fc", "dense_h_to_4h", "wi", "fc_in", "lin1", "proj_mlp"),
    DOWN: ("down_proj", "w2", "fc2", "dense_4h_to_h", "fc_out", "lin2"),
    GATE_UP: ("gate_up_proj",),
}

_DIGITS = re.compile(r"^\d+$")
_ATTN = re.compile(r"att", re.IGNORECASE)


def normalize(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def role_of_name(name: str) -> str | None:
    """The role a (leaf) name has in the architectures ``ROLE_NAMES`` knows, or None
    (``to_out.0`` is named by ``to_out``)."""
    parts = [p for p in name.split(".") if not _DIGITS.match(p)]
    leaf = normalize(parts[-1] if parts else name)
    for role, names in ROLE_NAMES.items():
        if leaf in {normalize(n) for n in names}:
            return role
    return None


@dataclass(frozen=True)
class RoleEntry:
    role: str
    pattern: str  # module name with layer indices replaced by "*", first block only
    modules: tuple[str, ...]  # every module of the model with this pattern


def positional_lists(inventory: Inventory) -> frozenset[str]:
    """Numbered ModuleLists that are a sequence of different layers, not repeated blocks: their
    children are of several classes and one of them is a plain layer (``to_out = [Linear,
    Dropout]``). Stacks of blocks (``layers``, ``down_blocks``) hold only containers."""
    out = set()
    for name in inventory.layer_lists:
        lst = inventory.module(name)
        kids = [inventory.module(f"{name}.{c}") for c in (lst.children if lst else [])]
        found = [k for k in kids if k is not None]
        if len({k.cls for k in found}) > 1 and any(not k.children for k in found):
            out.add(name)
    return frozenset(out)


def layer_digits(name: str, positional: frozenset[str]) -> list[bool]:
    """For each segment of ``name``: is it a layer number (an index into a stack of blocks)?"""
    parts = name.split(".")
    return [bool(_DIGITS.match(p)) and ".".join(parts[:i]) not in positional for i, p in enumerate(parts)]


def _pattern(name: str, positional: frozenset[str] = frozenset()) -> str:
    parts = name.split(".")
    return ".".join("*" if d else p for p, d in zip(parts, layer_digits(name, positional)))


def block_linears(inventory: Inventory) -> dict[str, list[ModuleInfo]]:
    """Linear layers inside repeated blocks, grouped by name pattern (``model.layers.*.mlp.up_proj``)."""
    positional = positional_lists(inventory)
    groups: dict[str, list[ModuleInfo]] = {}
    for m in inventory.modules:
        if m.kind in LINEAR_KINDS and any(layer_digits(m.name, positional)):
            groups.setdefault(_pattern(m.name, positional), []).append(m)
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
            continue
        found = _mlp_roles(patterns, shapes, hidden)
        if not found:
            # several feed-forwards in one block (a diffusion transformer's `ff` and `ff_context`):
            # each container below the block on its own
            for sub in _sub_scopes(patterns).values():
                found.update(_mlp_roles(sub, shapes, hidden))
        roles.update(found)
    return [RoleEntry(roles[p], p, tuple(m.name for m in groups[p])) for p in groups if p in roles]


def _sub_scopes(patterns: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in patterns:
        block = _block_of(p)
        rest = p[len(block) + 1:].split(".")
        out.setdefault(rest[0] if len(rest) > 1 else "", []).append(p)
    return out


def _leaf(pattern: str) -> str:
    return pattern.rsplit(".", 1)[-1]


def _named_roles(patterns: list[str]) -> dict[str, str] | None:
    """Roles by name when every projection has a known name and they form whole attentions:
    as many queries as keys and values, at most one output per query (a joint attention's
    ``to_q/k/v`` + ``add_q/k/v_proj`` + ``to_out.0`` + ``to_add_out``; a single block's bare q/k/v)."""
    named = {p: role_of_name(p) for p in patterns}
    if any(r not in (Q, K, V, O) for r in named.values()):
        return None
    count = Counter(named.values())
    if not count[Q] or not (count[Q] == count[K] == count[V]) or count[O] > count[Q]:
        return None
    return {p: r for p, r in named.items() if r}


def _attention_roles(patterns: list[str], shapes: dict, hidden: int | None) -> dict[str, str]:
    if len({shapes[p] for p in patterns}) == 1 and len(patterns) >= 3:
        # one shape for every projection: only names can tell them apart
        named = _named_roles(patterns)
        if named is not None:
            return named
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
    by_name = {p: role_of_name(p) for p in inputs}
    if sorted(r for r in by_name.values() if r) == [K, Q, V]:
        result.update({p: r for p, r in by_name.items() if r})  # all three have a role
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
        # a parallel block's output projection reads [attention output, MLP activation] side by
        # side (Flux's single blocks: proj_out reads hidden + the width proj_mlp writes)
        parallel = [p for p in ups if shapes[p][1] == inter - hidden]
        if len(fused) == 1:
            result[fused[0]] = GATE_UP
        elif len(parallel) == 1:
            result[parallel[0]] = UP
    return result


def target_name(inventory: Inventory, modules: tuple[str, ...] | list[str],
                positional: frozenset[str] | None = None) -> str | None:
    """The shortest suffix free of layer numbers that reaches exactly ``modules`` as a list entry,
    if any (positional indices such as the ``0`` of ``to_out.0`` belong to the name)."""
    wanted = set(modules)
    first = next(iter(modules), None)
    if first is None:
        return None
    positional = positional_lists(inventory) if positional is None else positional
    parts = first.split(".")
    layer = layer_digits(first, positional)
    for n in range(1, len(parts) + 1):
        suffix = parts[-n:]
        if any(layer[-n:]):
            return None
        if _DIGITS.match(suffix[0]):
            continue  # `0` alone is no name
        entry = ".".join(suffix)
        hits = {m.name for m in inventory.modules if entry_matches(entry, m.name)}
        if hits == wanted:
            return entry
        if not wanted <= hits:
            return None
    return None


def entry_leaf(name: str, positional: frozenset[str]) -> str:
    """The last name of a module, with the sequence it sits in when that is positional
    (``...attn1.to_out.0`` -> ``to_out.0``, ``...ff.net.0.proj`` -> ``net.0.proj``)."""
    owner = max((p for p in positional if name.startswith(p + ".")), key=len, default=None)
    if owner is None:
        return name.rsplit(".", 1)[-1]
    return owner.rsplit(".", 1)[-1] + name[len(owner):]


def role_targets(inventory: Inventory) -> dict[str, list[str]]:
    """role -> the list entries that reach the modules with that role (leaf names where possible)."""
    entries = derive_roles(inventory)
    positional = positional_lists(inventory)
    by_role: dict[str, list[str]] = {}
    all_by_role: dict[str, set[str]] = {}
    for e in entries:
        all_by_role.setdefault(e.role, set()).update(e.modules)
    for e in entries:
        # A leaf shared by several patterns of the same role (T5's encoder/decoder `q`) is one entry.
        leaf = entry_leaf(e.modules[0], positional)
        hits = {m.name for m in inventory.modules if entry_matches(leaf, m.name)}
        name = leaf if hits and hits <= all_by_role[e.role] else target_name(inventory, e.modules, positional)
        if name and name not in by_role.setdefault(e.role, []):
            by_role[e.role].append(name)
    return by_role
