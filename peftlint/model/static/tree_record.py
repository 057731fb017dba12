"""A module being built statically (``static_values.Node``) recorded as an :class:`Inventory`,
in ``named_modules()`` order, as ``peftlint.model.record`` records a real model."""

from __future__ import annotations

import ast
import hashlib
from dataclasses import replace
from typing import Any, Callable

from peftlint.model import inventory as inv
from peftlint.model.inventory import Inventory, ModuleInfo
from peftlint.model.static.static_calls import Calls
from peftlint.model.static.static_values import MISSING, ClassInfo, Node, Pretrained, Unknown

# PEFT's model_type for a module without a ``config`` attribute (peft.utils.constants.DUMMY_MODEL_CONFIG)
CUSTOM_MODEL_TYPE = "custom"
_FIXED_KINDS = (inv.CONV1D_GPT2, inv.LINEAR, inv.CONV1D, inv.CONV2D, inv.CONV3D, inv.EMBEDDING, inv.MHA,
                inv.MODULE_LIST)
# a transformers model created in ``__init__`` -> its inventory, or None (then the subtree stays unknown)
PretrainedResolver = Callable[[Pretrained], "Inventory | None"]


def kind(node: Node) -> inv.ModuleKind:
    """``peftlint.model.record._kind`` for a node built statically."""
    k = node.kind
    if k in _FIXED_KINDS:
        return inv.ModuleKind(k)
    if k == inv.NORM or node.cls.endswith(("Norm", "RMSNorm")):
        return inv.NORM
    if k == inv.DROPOUT:
        return inv.DROPOUT
    if any(c is not None for c in node.children.values()):
        return inv.CONTAINER
    return inv.OTHER


def module_info(node: Node, name: str) -> ModuleInfo:
    k = kind(node)
    m = ModuleInfo(name=name, cls=node.cls, kind=k)
    if k in _FIXED_KINDS and k != inv.MODULE_LIST:
        m.in_features, m.out_features = (d if d is not None and d >= 0 else None
                                         for d in (node.in_features, node.out_features))
    if k in (inv.CONV1D, inv.CONV2D, inv.CONV3D):
        m.kernel_size, m.groups = node.kernel_size, node.groups
    m.params = {key: list(p.shape) for key, p in node.params.items() if p is not None}
    m.bias = "bias" in m.params
    m.children = [k for k in list_keys(node) if isinstance(node.children[k], Node)]
    return m


def list_keys(node: Node) -> list[str]:
    """The child names ``named_children()`` yields: each module once (unknown items count)."""
    seen: set[int] = set()
    keys = []
    for k, c in node.children.items():
        if c is None or id(c) in seen:
            continue
        seen.add(id(c))
        keys.append(k)
    return keys


class Recorder:
    def __init__(self, resolve: PretrainedResolver | None) -> None:
        self.resolve = resolve
        self.modules: list[ModuleInfo] = []
        self.unknown: dict[str, str] = {}
        self.pretrained: dict[str, Pretrained] = {}
        self.grafted: dict[str, str] = {}  # module name -> the pretrained model put there
        self.aliases: dict[str, str] = {}
        self.layer_lists: dict[str, int] = {}
        self.tied: list[list[str]] = []
        self.names: dict[int, str] = {}

    def walk(self, node: Node, prefix: str, info: ModuleInfo | None) -> None:
        children: list[str] = []
        seen: set[int] = set()
        for key, child in node.children.items():
            full = prefix + key
            if child is None:
                continue
            if isinstance(child, Unknown):
                if self._graft(child, full):
                    children.append(key)
                continue
            if id(child) not in seen:
                seen.add(id(child))
                children.append(key)
            if id(child) in self.names:
                self.aliases[full] = self.names[id(child)]
                continue
            self.names[id(child)] = full
            m = module_info(child, full)
            self.modules.append(m)
            if child.opaque:
                self.unknown[full] = child.opaque
                continue
            if child.torch_base == "ModuleList":
                keys = list_keys(child)
                if keys and all(k.isdigit() for k in keys):
                    self.layer_lists[full] = len(keys)
            self.walk(child, full + ".", m)
        if info is not None:
            info.children = children

    def _graft(self, child: Unknown, full: str) -> bool:
        """A transformers model held as an attribute: its inventory in place, when it can be had."""
        sub = self.resolve(child.pretrained) if child.pretrained is not None and self.resolve else None
        if sub is not None and sub.class_note:  # another class than the code's was built: not this tree
            sub = None
        if sub is None:
            self.unknown[full] = child.reason
            if child.pretrained is not None:
                self.pretrained[full] = child.pretrained
            return False
        p = full + "."
        tops = [m.name for m in sub.modules if "." not in m.name]
        self.modules.append(ModuleInfo(name=full, cls=sub.model_class, kind=inv.CONTAINER, children=tops))
        self.modules.extend(replace(m, name=p + m.name, children=list(m.children)) for m in sub.modules)
        self.layer_lists.update({p + k: n for k, n in sub.layer_lists.items()})
        self.aliases.update({p + k: p + v for k, v in sub.module_aliases.items()})
        self.tied.extend([p + n for n in group] for group in sub.tied_weights)
        self.unknown.update({p + u: "inside the pretrained model" for u in sub.unknown})
        self.grafted[full] = sub.model_id
        return True


def record(calls: Calls, root: Node, label: str, embeddings: dict[str, Any],
           resolve: PretrainedResolver | None = None) -> tuple[Inventory, Recorder]:
    klass = root.klass
    rec = Recorder(resolve)
    rec.names[id(root)] = ""
    rec.walk(root, "", None)
    emb = {k: (rec.names.get(id(v)) if isinstance(v, Node) else None) for k, v in embeddings.items()}
    model_type = CUSTOM_MODEL_TYPE
    if "config" in root.attrs or "config" in root.children or "config" in root.params or \
            (klass is not None and class_defines(calls, klass, "config")) or isinstance(embeddings["get_input_embeddings"], Unknown):
        model_type = ""  # PEFT reads the model type from that config: not known here
    defaults: dict[str, Any] = {"OSF": "all-linear"}  # OSFModel's fallback for unknown model types
    if embeddings["get_input_embeddings"] is MISSING:  # peft.utils.other._get_input_embeddings_name
        defaults["TRAINABLE_TOKENS"] = "embed_tokens"
    elif emb["get_input_embeddings"]:
        defaults["TRAINABLE_TOKENS"] = emb["get_input_embeddings"]
    top = {k for k, c in root.children.items() if isinstance(c, Node)}
    inventory = Inventory(
        model_id=label,
        model_type=model_type,
        model_class=root.cls,
        config_hash=hashlib.sha256((ast.dump(klass.node) if klass else root.cls).encode("utf-8")).hexdigest(),
        modules=rec.modules,
        output_embedding=emb["get_output_embeddings"],
        input_embedding=emb["get_input_embeddings"],
        tied_weights=tied_groups(root) + rec.tied,
        seq_cls_head=next((h for h in ("score", "classifier") if h in top), None),  # peft's SEQ_CLS_HEAD_NAMES
        is_pretrained_model=False,
        library="local",
        default_targets=defaults if model_type else {},
        requested_class=root.cls,
        module_aliases=rec.aliases,
        layer_lists=rec.layer_lists,
        unknown=list(rec.unknown),
        root_params=[k for k, p in root.params.items() if p is not None],
    )
    return inventory, rec


def describe_unknown(unknown: dict[str, str]) -> str:
    if not unknown:
        return ""
    names = ", ".join(f"`{n}`" for n in list(unknown)[:3]) + (f" (+{len(unknown) - 3} more)" if len(unknown) > 3 else "")
    count = f"{len(unknown)} subtree{'s' if len(unknown) != 1 else ''} unknown"
    return f"{count}: {names} ({next(iter(unknown.values()))})"


def class_defines(calls: Calls, klass: ClassInfo, name: str) -> bool:
    """Whether the class or one of its local bases defines ``name`` (a method, property or attribute)."""
    k: Any = klass
    for _ in range(12):
        if not isinstance(k, ClassInfo):
            return False
        if k.own(name) is not None:
            return True
        k = calls.base_value(k)
    return False


def tied_groups(root: Node) -> list[list[str]]:
    """Parameter names sharing one parameter (``named_parameters(remove_duplicate=False)``)."""
    groups: dict[int, list[str]] = {}

    def walk(node: Node, prefix: str, path: tuple[int, ...]) -> None:
        for k, p in node.params.items():
            if p is not None:
                groups.setdefault(id(p), []).append(prefix + k)
        if node.opaque:
            return
        for k, c in node.children.items():
            if isinstance(c, Node) and id(c) not in path:
                walk(c, prefix + k + ".", path + (id(c),))

    walk(root, "", (id(root),))
    return [names for names in groups.values() if len(names) > 1]
