"""The data behind ``peftlint modules MODEL``: which modules of a model an adapter can target.

Works on a (cached) Inventory only: no torch, no transformers, no peft.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.semantics import roles
from peftlint.semantics.matching import PeftView, compute_targeting, entry_matches, layer_index

# What LoRA can wrap (docs/peft-behaviour.md#layer-types); other kinds are not listed as targets.
ADAPTABLE_KINDS = (inv.LINEAR, inv.CONV1D_GPT2, inv.EMBEDDING, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.MHA)
_KIND_LABELS = {
    inv.LINEAR: "Linear", inv.CONV1D_GPT2: "Conv1D (gpt2)", inv.EMBEDDING: "Embedding", inv.CONV1D: "Conv1d",
    inv.CONV2D: "Conv2d", inv.CONV3D: "Conv3d", inv.MHA: "MultiheadAttention",
}
_ATTENTION_ORDER = (roles.QKV, roles.Q, roles.K, roles.V, roles.O)
_MLP_ORDER = (roles.GATE_UP, roles.GATE, roles.UP, roles.DOWN)


@dataclass
class ModuleGroup:
    """The modules sharing one leaf name (and kind), e.g. every ``q_proj``."""

    entry: str  # what to write in target_modules to reach exactly these modules ("" when no suffix does)
    leaf: str
    kind: str  # kind label: "Linear", "Conv1D (gpt2)", "Embedding", ...
    classes: list[str]
    count: int  # modules
    layers: int  # distinct repeated-block indices (0 outside repeated blocks)
    shapes: list[list[int | None]]  # distinct [in, out] (Embedding: [num_embeddings, dim])
    towers: list[str] = field(default_factory=list)
    role: str | None = None  # roles.Q, roles.UP, ... (see peftlint.semantics.roles)
    head: bool = False  # the output embedding or a classification head
    input_embedding: bool = False
    tied: bool = False  # shares its weight with another module (tie_word_embeddings)
    all_linear: str = "no"  # "all" | "some" | "no": does target_modules="all-linear" select these
    default: str = "no"  # same for PEFT's default target_modules for this model type (LoRA)
    examples: list[str] = field(default_factory=list)  # first full names


@dataclass
class ParameterGroup:
    """A parameter that is not a module's plain weight/bias, e.g. fused experts ``experts.gate_up_proj``."""

    entry: str  # a target_parameters entry that reaches it
    module_class: str
    count: int
    layers: int
    shape: list[int]


@dataclass
class ModulesReport:
    model: str
    model_type: str  # "" for diffusers models
    model_class: str
    num_hidden_layers: int | None
    groups: list[ModuleGroup]
    default_targets: Any  # PEFT's LoRA default for this model type (None: no default)
    default_count: int
    all_linear_count: int
    all_linear_skips: list[str]  # what "all-linear" leaves out on purpose (the output head)
    suggested: dict[str, Any]  # "attention", "attention_mlp", "all_linear" -> target_modules value
    towers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # fused parameters (MoE experts in transformers 5): reached with target_parameters only
    parameters: list[ParameterGroup] = field(default_factory=list)
    all_linear_parameters: list[str] = field(default_factory=list)  # added by PEFT's MoE conversion
    library: str = "transformers"  # who builds the model: "transformers" or "diffusers"
    peft_model_type: bool = True  # the config has a model_type (else target_modules=None raises KeyError)
    # ``--adapter-config``: what that config trains on this model (semantics.params.ParameterCount.to_json()
    # plus "adapter_config" (the path), "method" and "line" (peft's print_trainable_parameters() line))
    adapter: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _tower(name: str, towers: dict[str, str]) -> str | None:
    best = None
    for prefix, label in towers.items():
        if (name == prefix or name.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, label)
    return best[1] if best else None


def _coverage(names: list[str], selected: set[str]) -> str:
    hit = sum(1 for n in names if n in selected)
    return "all" if hit == len(names) else ("some" if hit else "no")


def _tied_names(inventory: Inventory) -> set[str]:
    tied: set[str] = set()
    for group in inventory.tied_weights:
        if len(group) > 1:
            tied.update(p.rsplit(".", 1)[0] for p in group)
    if inventory.tie_word_embeddings:
        tied.update(n for n in (inventory.input_embedding, inventory.output_embedding) if n)
    return tied


def describe_modules(inventory: Inventory, task_type: str | None = None, method: str = "LORA") -> ModulesReport:
    """Group the adaptable modules of ``inventory`` by leaf name and say what selects them."""
    all_linear = compute_targeting(PeftView(method=method, target_modules="all-linear", task_type=task_type), inventory)
    default = compute_targeting(PeftView(method=method, target_modules=None, task_type=task_type), inventory)
    al_set, def_set = set(all_linear.targeted), set(default.targeted)
    role_of: dict[str, str] = {}
    for e in roles.derive_roles(inventory):
        for n in e.modules:
            role_of[n] = e.role
    tied = _tied_names(inventory)
    heads = {n for n in (inventory.output_embedding, inventory.seq_cls_head) if n}

    positional = roles.positional_lists(inventory)
    by_key: dict[tuple[str, inv.ModuleKind], list[ModuleInfo]] = {}
    for m in inventory.modules:
        if m.kind in ADAPTABLE_KINDS:
            # a layer in a positional sequence is named with it (`to_out.0`, `net.0.proj`)
            by_key.setdefault((roles.entry_leaf(m.name, positional), m.kind), []).append(m)
    groups: list[ModuleGroup] = []
    for (leaf, kind), mods in by_key.items():
        names = [m.name for m in mods]
        shapes: list[list[int | None]] = []
        for m in mods:
            s = [m.in_features, m.out_features]
            if s not in shapes:
                shapes.append(s)
        entry = leaf if {m.name for m in inventory.modules if entry_matches(leaf, m.name)} == set(names) else (
            roles.target_name(inventory, names) or "")
        mod_roles = {role_of.get(n) for n in names}
        groups.append(ModuleGroup(
            entry=entry, leaf=leaf, kind=_KIND_LABELS.get(kind, kind), classes=sorted({m.cls for m in mods}),
            count=len(mods), layers=0 if inventory.library == "diffusers" else  # no layer numbers PEFT reads
            len({i for i in (layer_index(n, None) for n in names) if i is not None}),
            shapes=shapes, towers=sorted({t for t in (_tower(n, inventory.towers) for n in names) if t}),
            role=next(iter(mod_roles)) if len(mod_roles) == 1 else None,
            head=any(n in heads for n in names), input_embedding=inventory.input_embedding in names,
            tied=any(n in tied for n in names), all_linear=_coverage(names, al_set), default=_coverage(names, def_set),
            examples=names[:2]))

    by_role = roles.role_targets(inventory)
    attention = [n for r in _ATTENTION_ORDER for n in by_role.get(r, [])]
    mlp = [n for r in _MLP_ORDER for n in by_role.get(r, [])]
    explicit = _explicit_all_linear(groups, al_set, inventory)
    suggested: dict[str, Any] = {}
    if attention:
        suggested["attention"] = attention
    if attention and mlp:
        suggested["attention_mlp"] = attention + mlp
    if al_set:
        suggested["all_linear"] = "all-linear"
        if explicit and not all_linear.effective_parameters:
            suggested["all_linear_explicit"] = explicit
    notes = []
    params = _parameter_groups(inventory)
    if params:
        notes.append("expert weights are fused parameters, not Linear modules: target_modules cannot reach them; "
                     "use target_parameters=" + str([p.entry for p in params]).replace("'", '"'))
    if default.no_default and not inventory.peft_model_type:
        notes.append(f"the config has no model_type, so PEFT has no default target_modules ({method}): "
                     "name the targets explicitly")
    elif default.no_default:
        notes.append(f"PEFT has no default target_modules for model type `{inventory.model_type}` ({method}): "
                     "name the targets explicitly")
    if inventory.class_note:
        notes.append(inventory.class_note)
    return ModulesReport(
        model=inventory.model_id, model_type=inventory.model_type, model_class=inventory.model_class,
        num_hidden_layers=inventory.num_hidden_layers, groups=groups,
        default_targets=None if default.no_default else inventory.default_targets.get(method),
        default_count=len(def_set), all_linear_count=len(al_set),
        all_linear_skips=sorted(n for n in heads if n not in al_set and (head := inventory.module(n)) is not None
                                and head.kind in (inv.LINEAR, inv.CONV1D_GPT2)),
        suggested=suggested, towers=dict(inventory.towers), notes=notes, parameters=params,
        all_linear_parameters=list(all_linear.effective_parameters), library=inventory.library,
        peft_model_type=inventory.peft_model_type)


def _parameter_groups(inventory: Inventory) -> list[ParameterGroup]:
    """3-d parameters of modules (fused MoE experts), grouped by module leaf and parameter name.
    Layers LoRA wraps as modules (a Conv2d's 4-d kernel) are not listed."""
    found: dict[tuple[str, str], list[tuple[ModuleInfo, list[int]]]] = {}
    for m in inventory.modules:
        if m.kind in ADAPTABLE_KINDS:
            continue
        for pname, shape in m.params.items():
            if len(shape) >= 3:
                found.setdefault((m.leaf, pname), []).append((m, shape))
    out = []
    for (leaf, pname), hits in found.items():
        names = [m.name for m, _ in hits]
        out.append(ParameterGroup(
            entry=f"{leaf}.{pname}", module_class=hits[0][0].cls, count=len(hits),
            layers=len({i for i in (layer_index(n + ".", None) for n in names) if i is not None}),
            shape=list(hits[0][1])))
    return out


def _explicit_all_linear(groups: list[ModuleGroup], selected: set[str], inventory: Inventory) -> list[str] | None:
    """A list of entries that reaches exactly what "all-linear" selects, or None if there is none."""
    entries = [g.entry for g in groups if g.all_linear == "all" and g.entry]
    if any(g.all_linear == "some" for g in groups) or any(g.all_linear == "all" and not g.entry for g in groups):
        return None
    reached = {m.name for m in inventory.modules if any(entry_matches(e, m.name) for e in entries)}
    return entries if reached == selected else None
