"""Ask the installed peft whether a config is valid, instead of re-writing its checks.

Two questions, both answered by running peft's own code on literal values only (never the linted
code, never a value peftlint could not read exactly):

- ``construct``: build the config class from the arguments, as the user's script (or
  ``PeftConfig.from_pretrained`` for a saved ``adapter_config.json``) does. This runs the class's
  ``__post_init__``; what it raises or warns is peft's verdict on the config.
- ``probe``: whether one value that peft's annotation does not declare (an unknown string, a rank
  <= 0, a value of another type) makes ``get_peft_model`` fail. peft checks these only while it
  builds the layers, so the value is tried on a one-layer toy model, once with and once without
  it; only a failure the value alone causes counts.

Verdicts are stored in the cache directory (``peftcheck-`` entries) under the config class, the
arguments and the peft version, so a run that meets the same arguments again imports no peft. A
missing verdict is computed where the caller's ``Offload`` runs it (the language server: its worker
process, see model/offload.py); the caller stores it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from peftlint import __version__, store
from peftlint.model.offload import Offload, OffloadFailed, in_process
from peftlint.spec import Value

CHECK_PREFIX = "peftcheck-"

# Fields that pick modules: a probe on the toy model replaces them with its own single target.
_TARGETING = frozenset({
    "target_modules", "exclude_modules", "layers_to_transform", "layers_pattern", "modules_to_save",
    "target_parameters", "rank_pattern", "alpha_pattern", "feedforward_modules", "trainable_token_indices",
    "layer_replication", "task_type", "inference_mode", "base_model_name_or_path", "revision", "peft_type",
    "auto_mapping", "peft_version",
})


@dataclass
class Complaint:
    """One thing peft raised or warned."""

    kind: str  # "raises" | "warns"
    error: str  # the exception class ("ValueError") or warning category ("UserWarning")
    message: str  # peft's own text

    def text(self) -> str:
        return f"{self.error}: {self.message}" if self.kind == "raises" else self.message


@dataclass
class Verdict:
    """What peft itself said about a config's arguments."""

    complaints: list[Complaint] = field(default_factory=list)
    # False when peft could not judge here (see ``missing``); such a verdict is never cached
    judged: bool = True
    # optional packages peft's check needed that are not installed and could not be stood in for
    missing: list[str] = field(default_factory=list)

    @property
    def raised(self) -> Complaint | None:
        return next((c for c in self.complaints if c.kind == "raises"), None)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Verdict":
        return cls(complaints=[Complaint(**c) for c in data["complaints"]], judged=bool(data["judged"]),
                   missing=[str(m) for m in data.get("missing", ())])


# -- literal arguments ---------------------------------------------------------------------------


class NotLiteral(Exception):
    """A value that is not exactly known, or has no faithful JSON form."""


def literal(v: Value) -> Any:
    """The Python value a fully static ``Value`` stands for (tuples and sets kept), else NotLiteral."""
    if v.dynamic:
        raise NotLiteral
    if v.items is not None:
        items = [literal(i) for i in v.items]
        if v.kind == "tuple":
            return tuple(items)
        if v.kind == "set":
            return set(items)
        return items
    if isinstance(v.value, dict):
        if v.members is not None and set(v.members) == set(v.value) and all(isinstance(k, str) for k in v.value):
            return {k: literal(v.members[k]) for k in v.value}
        return _plain(v.value)
    return _plain(v.value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotLiteral
        return value
    if isinstance(value, list):
        return [_plain(x) for x in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _plain(x) for k, x in value.items()}
    raise NotLiteral


def literal_args(fields: dict[str, Value]) -> dict[str, Any] | None:
    """Every field as a literal, or None when any of them is not one."""
    try:
        return {name: literal(v) for name, v in fields.items()}
    except (NotLiteral, TypeError, RecursionError):
        return None


def _encode(value: Any) -> Any:
    """A JSON form that keeps tuples and sets apart from lists (for the cache key)."""
    if isinstance(value, tuple):
        return {"tuple": [_encode(x) for x in value]}
    if isinstance(value, set):
        return {"set": sorted((_encode(x) for x in value), key=lambda x: json.dumps(x, sort_keys=True))}
    if isinstance(value, list):
        return [_encode(x) for x in value]
    if isinstance(value, dict):
        return {"dict": [[k, _encode(x)] for k, x in value.items()]}
    return value


# -- verdicts ------------------------------------------------------------------------------------


def construct(config_class: str, args: dict[str, Any], cache_dir: Path | None, *, saved: bool = False,
              offload: Offload = in_process) -> Verdict:
    """peft's verdict on ``config_class(**args)`` (``saved``: loading a saved adapter_config.json)."""
    how = "load" if saved else "construct"
    return _cached(how, config_class, args, cache_dir, offload, _run_construct, config_class, args, saved)


def probe(config_class: str, name: str, value: Any, base: dict[str, Any], cache_dir: Path | None, *,
          offload: Offload = in_process) -> Verdict:
    """Whether ``name=value`` alone makes ``get_peft_model`` fail for ``config_class`` (see the module
    docstring). ``base`` holds the config's other literal arguments; targeting fields are replaced.
    An empty verdict means the value passes or peft's answer depends on something else."""
    base = {k: v for k, v in base.items() if k not in _TARGETING and k != name}
    key_args = {"field": name, "value": value, "base": base}
    return _cached("probe", config_class, key_args, cache_dir, offload, _run_probe, config_class, name, value, base)


def shape_probe(config_class: str, base: dict[str, Any], in_features: int, out_features: int,
                cache_dir: Path | None, *, offload: Offload = in_process) -> Verdict:
    """What ``get_peft_model`` raises for this config on one ``nn.Linear(in_features, out_features)``
    (peft checks some methods' dimensions only while it builds the layer: GraLoRA's ``gralora_k``,
    OFT's block size, ...). Empty when it passes, or when the config fails on a highly divisible
    shape too (then the shape is not the reason)."""
    base = {k: v for k, v in base.items() if k not in _TARGETING}
    key_args = {"base": base, "shape": [in_features, out_features]}
    return _cached("shape", config_class, key_args, cache_dir, offload,
                   _run_shape_probe, config_class, base, in_features, out_features)


def _cached(how: str, config_class: str, args: dict[str, Any], cache_dir: Path | None, offload: Offload,
            compute: Callable[..., Verdict], *compute_args: Any) -> Verdict:
    """The stored verdict, else ``compute(*compute_args)`` where ``offload`` runs it (peft is imported
    there), stored when judged."""
    key = store.digest({
        "how": how,
        "class": config_class,
        "args": _encode(args),
        "peft": store.package_versions("peft")["peft"],
        "peftlint": __version__,
        "source": store.source_digest("semantics/peft_check.py"),
    })
    path = store.entry_path(cache_dir, CHECK_PREFIX, key)
    payload = store.read_entry(path, key)
    if isinstance(payload, dict):
        try:
            return Verdict.from_json(payload)
        except (TypeError, KeyError, ValueError):
            pass  # damaged entry: recomputed below
    try:
        verdict, unjudged = offload(_computed, compute, *compute_args)
    except OffloadFailed:  # the worker process died (its caller logs it): no verdict, asked again next time
        UNJUDGED.append([])
        return Verdict(judged=False)
    UNJUDGED.extend(unjudged)
    if verdict.judged:
        store.write_entry(path, key, asdict(verdict))
    return verdict


def _computed(compute: Callable[..., Verdict], *args: Any) -> tuple[Verdict, list[list[str]]]:
    """``compute(*args)`` and the ``UNJUDGED`` entries it added (taken back: the caller adds them in its
    own process, which may be another one)."""
    before = len(UNJUDGED)
    verdict = compute(*args)
    added = UNJUDGED[before:]
    del UNJUDGED[before:]
    return verdict, added


def _run_construct(config_class: str, args: dict[str, Any], saved: bool) -> Verdict:
    import peft

    cls = getattr(peft, config_class, None)
    if cls is None:
        return Verdict(judged=False)

    def build() -> None:
        if saved:
            kwargs = cls.check_kwargs(**args)
            peft.PeftConfig.from_peft_type(**kwargs) if "peft_type" in kwargs else cls(**kwargs)
        else:
            cls(**args)

    return _observe(build)


def _toy(in_features: int = 64, out_features: int = 64) -> Any:
    """A model with one ``nn.Linear`` named ``lin`` (real, tiny weights on the CPU)."""
    import torch

    class ToyModel(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(in_features, out_features)

        def forward(self, x: Any) -> Any:
            return self.lin(x)

    return ToyModel()


def _run_probe(config_class: str, name: str, value: Any, base: dict[str, Any]) -> Verdict:
    import peft

    cls = getattr(peft, config_class, None)
    if cls is None or "target_modules" not in getattr(cls, "__dataclass_fields__", {}):
        return Verdict(judged=False)

    def apply(extra: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            config = cls(**base, **extra, target_modules=["lin"])
            peft.get_peft_model(_toy(), config)
        return run

    without = _observe(apply({}))
    if without.raised is not None:
        return Verdict()  # the toy model itself does not fit these arguments: no answer
    with_value = _observe(apply({name: value}))
    if with_value.raised is None:
        return Verdict()
    return Verdict(complaints=[with_value.raised])


_REFERENCE = 5040  # divisible by every block size, rank and factor a config plausibly names (1-10, 12, 16, ...)


def _run_shape_probe(config_class: str, base: dict[str, Any], in_features: int, out_features: int) -> Verdict:
    import peft

    cls = getattr(peft, config_class, None)
    if cls is None or "target_modules" not in getattr(cls, "__dataclass_fields__", {}):
        return Verdict(judged=False)

    def apply(shape: tuple[int, int]) -> Callable[[], None]:
        def run() -> None:
            import torch

            with torch.device("meta"):  # a real model's layer can be large: no storage
                peft.get_peft_model(_toy(*shape), cls(**base, target_modules=["lin"]))
        return run

    if _observe(apply((_REFERENCE, _REFERENCE))).raised is not None:
        return Verdict()
    shaped = _observe(apply((in_features, out_features)))
    return Verdict(complaints=[shaped.raised]) if shaped.raised is not None else Verdict()


def _observe(action: Callable[[], None]) -> Verdict:
    """Run ``action`` and collect what it raises and what peft warns meanwhile.

    peft checks some optional packages before it checks the config itself (``init_lora_weights=
    "loftq"`` asks for scipy first, then rejects a missing ``loftq_config``). Its verdict must not
    depend on what happens to be installed here, so when the action stops at such an import check it
    is run again with the missing packages stood in for (see ``_standing_in``), up to a few rounds:
    what peft then says is what it says where the package is installed. Only when that does not
    give an answer from peft's own code is the verdict unjudged, naming the packages."""
    present: frozenset[str] = frozenset()
    for _ in range(_MAX_STAND_INS):
        verdict, needed = _observe_once(action, present)
        if verdict.judged:
            return verdict
        if not needed or needed <= present:
            break
        present = present | needed
    # the packages, or peft's own words when its import error names none
    missing = sorted(present | needed) or verdict.missing
    UNJUDGED.append(missing)
    return Verdict(judged=False, missing=missing)


_MAX_STAND_INS = 4
# the missing packages of every unjudged verdict of this process, in order: a file whose findings
# include one is not stored in the result cache (installing the package changes them)
UNJUDGED: list[list[str]] = []


def _observe_once(action: Callable[[], None], present: frozenset[str]) -> tuple[Verdict, frozenset[str]]:
    """One run of ``action`` with ``present`` stood in for, and the packages it found missing when it
    stopped at an import check (empty when it did not, or when the import error names none: then
    the unjudged verdict carries peft's message instead)."""
    import warnings

    import peft

    peft_dir = os.path.dirname(os.path.abspath(peft.__file__)) + os.sep
    complaints: list[Complaint] = []
    with _standing_in(present) as asked_missing, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
        except ImportError as exc:
            needed = set(asked_missing)
            if getattr(exc, "name", None):
                needed.add(str(exc.name).partition(".")[0])
            return Verdict(judged=False, missing=[] if needed else [_one_text(exc)]), frozenset(needed)
        except Exception as exc:  # noqa: BLE001 - whatever peft raises is its verdict
            if present and not _raised_by(exc, peft_dir):
                return Verdict(judged=False), present  # a stand-in, not peft, failed: no answer
            complaints.append(Complaint("raises", type(exc).__name__, _one_text(exc)))
    seen: set[str] = set()
    for w in caught:
        text = str(w.message).strip()
        if not os.path.abspath(w.filename).startswith(peft_dir) or text in seen:
            continue
        seen.add(text)
        complaints.append(Complaint("warns", w.category.__name__, text))
    complaints.sort(key=lambda c: c.kind != "raises")
    return Verdict(complaints=complaints), frozenset()


def _raised_by(exc: BaseException, peft_dir: str) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is peft's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(peft_dir)


@contextlib.contextmanager
def _standing_in(present: frozenset[str]) -> Iterator[set[str]]:
    """While active, ``importlib.util.find_spec`` finds each top-level package in ``present`` and
    ``import`` gives an empty module for it (peft only asks whether they exist before its own
    checks); yields the set of top-level packages that ``find_spec`` was asked for and did not find.
    Everything is put back on exit."""
    import importlib.machinery
    import importlib.util
    import sys
    import types

    real_find_spec = importlib.util.find_spec
    asked_missing: set[str] = set()

    def find_spec(name: str, package: str | None = None) -> Any:
        top = name.partition(".")[0]
        if top in present:
            return importlib.machinery.ModuleSpec(name, None)
        spec = real_find_spec(name, package)
        if spec is None and not name.startswith("."):
            asked_missing.add(top)
        return spec

    added = [name for name in present if name not in sys.modules]
    with _PATCH_LOCK:
        importlib.util.find_spec = find_spec
        for name in added:
            sys.modules[name] = types.ModuleType(name)
        try:
            yield asked_missing
        finally:
            importlib.util.find_spec = real_find_spec
            for name in added:
                sys.modules.pop(name, None)


_PATCH_LOCK = threading.RLock()


def _one_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
