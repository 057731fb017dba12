"""The base model of each spec: which reference to use (comment, --model, the source, the
configuration), its inventory (resolved and built, or read statically from the linted code), and
the one-line note when there is none."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Severity
from peftlint.rules.meta import REMOTE_CODE, UNRESOLVED
from peftlint.spec import AdapterSpec, ModelRef

if TYPE_CHECKING:
    from peftlint.engine.results_cache import ResolutionKey, ResolutionLog
    from peftlint.model.inventory import Inventory
    from peftlint.model.load import Building, Loaded
    from peftlint.model.offload import Offload
    from peftlint.model.static.static_values import Pretrained

# load_inventory's memo: (resolution key, model class) -> the inventory, or why it could not be built
InventoryMemo = dict[tuple["ResolutionKey", "str | None"], "Inventory | Exception"]

# The unresolved-model note fits one line of 160 characters, with room for a notebook's " (cell N, line L)".
UNRESOLVED_LIMIT = 140


class ModelChoice:
    """The model half of :class:`peftlint.engine.run.Linter` (it holds the run's settings and memos)."""

    settings: Settings
    cwd: Path
    _resolved: ResolutionLog  # the run's memo of resolved references
    _inventories: InventoryMemo
    _local: dict[object, object]  # module trees of classes in the linted code (module_tree memo)
    building: Building | None  # told of each model build (the language server's progress)
    offload: Offload  # runs model builds and peft's verdicts (the language server: in a worker process)

    def cache_dir(self) -> Path | None:
        raise NotImplementedError

    def choose_ref(self, spec: AdapterSpec) -> ModelRef | None:
        """comment hint > --model > what the source says > [tool.peftlint] model (see README)."""
        s = self.settings
        ref = spec.model
        if ref is not None and ref.how.startswith("# peftlint"):
            sub = _sub(ref.ref, spec.facts.subfolder) if not ref.subfolder else None
            if sub:  # the code loads one component of the named repository
                return replace(ref, subfolder=sub, model_class=spec.facts.model_class,
                               library=spec.facts.library or ref.library)
            return ref
        cls = ref.model_class if ref else spec.facts.model_class
        # a pipeline given for a component's config (a diffusers LoRA file's `unet` weights, the
        # `subfolder=` of a load whose model name is dynamic) means that component
        sub = ref.subfolder if ref else spec.facts.subfolder
        lib = ref.library if ref else (spec.facts.library or "transformers")
        if s.cli_model:
            return ModelRef(s.cli_model, "--model", model_class=cls, base_dir=str(self.cwd), subfolder=_sub(s.cli_model, sub),
                            library=lib)
        if spec.source in ("adapter_config", "diffusers_lora") and s.model:
            return ModelRef(s.model, "[tool.peftlint] model", model_class=cls, base_dir=s.project_root,
                            subfolder=_sub(s.model, sub), library=lib)
        if ref is not None:
            return ref
        if s.model:
            return ModelRef(s.model, "[tool.peftlint] model", model_class=cls, base_dir=s.project_root,
                            subfolder=_sub(s.model, sub), library=lib)
        return None

    def _unresolved(self, spec: AdapterSpec, why: str, ref: ModelRef | None, got: Loaded | None = None,
                    summary: str = "") -> Diagnostic:
        """One note per config, at the config call: a one-line message (``summary`` when given), the
        full reason in ``detail``."""
        from peftlint.rules import rule_by_code

        code = REMOTE_CODE if got is not None and got.needs_remote_code else UNRESOLVED
        rule = rule_by_code(code)
        skipped = "model-aware checks skipped"
        if summary:
            msg = f"{summary}; {skipped}"
        elif ref is None:
            msg = _clip(f"base model unknown: {why}", UNRESOLVED_LIMIT - len(skipped) - 2) + "; " + skipped
        elif code == REMOTE_CODE:
            msg = f"{_clip(repr(ref.ref), 80)} needs trust_remote_code to build; {skipped} (--trust-remote-code runs it)"
        else:
            if got is not None and got.failed:
                failed = got.failed
            elif ref.library == "local" or ref.ref.startswith(LOCAL_PREFIX):
                failed = "could not be read statically"
            elif got is not None and got.model_class:
                failed = "could not be built on the meta device"
            else:
                failed = "not resolved"
            msg = f"base model {_clip(repr(ref.ref), 80)} {failed}"
            room = UNRESOLVED_LIMIT - len(msg) - len(skipped) - 5
            via = next((h for h in (ref.how, ref.how.split(", ")[0]) if h and len(h) <= room), "")
            msg += (f" ({via})" if via else "") + "; " + skipped
        hint = "" if code == REMOTE_CODE else (
            " Name the model with `# peftlint: model=<hub id or path>` on or above the config"
            + (", or pass --model." if ref is None else "."))
        detail = why.rstrip(".") + "." + hint
        return Diagnostic(code, rule.name if rule else code, rule.severity if rule else Severity.INFO, msg,
                          spec.path, spec.span, detail=detail)

    def _inventory_for(self, spec: AdapterSpec, ref: ModelRef, text: str = "") -> Loaded:
        from peftlint.model.load import load_inventory

        target = self.settings.models.get(ref.ref, ref.ref)  # an alias may name a local class too
        if ref.library == "local" or target.startswith(LOCAL_PREFIX):
            name = ref.ref if ref.library == "local" else target.removeprefix(LOCAL_PREFIX)
            return self._local_inventory(spec, ref, name, text)
        base_dirs = tuple(d for d in (ref.base_dir, str(Path(spec.abspath).parent) if spec.abspath else None) if d)
        got = load_inventory(ref.ref, self.settings, self.cache_dir(), revision=ref.revision, base_dirs=base_dirs,
                             model_class=ref.model_class, task_type=spec.task_type, how=ref.how,
                             resolved_memo=self._resolved, inventory_memo=self._inventories,
                             subfolder=ref.subfolder, library=ref.library if ref.library != "local" else None,
                             building=self.building, offload=self.offload)
        from peftlint.engine.loaded_class import as_the_code_loads_it

        return as_the_code_loads_it(ref, got, bool(self.settings.trust_remote_code))

    def _local_inventory(self, spec: AdapterSpec, ref: ModelRef, name: str, text: str) -> Loaded:
        """The nn.Module class ``name`` of the linted code, read statically."""
        from peftlint.model.load import Loaded, load_inventory
        from peftlint.model.static.module_tree import local_tree

        if spec.source not in ("python", "notebook"):
            return Loaded(why=f"{name} ({ref.how}) names a class of Python code, but this config is not in Python code")
        line = ref.span.line if ref.span is not None else spec.span.line
        base_dirs = (str(Path(spec.abspath).parent),) if spec.abspath else ()

        def pretrained(p: Pretrained) -> Inventory | None:
            """A transformers model created in the class's __init__: its tree, when it resolves."""
            if p.ref is None:
                return None
            got = load_inventory(p.ref, self.settings, self.cache_dir(), base_dirs=base_dirs, model_class=p.model_class,
                                 how=p.how, resolved_memo=self._resolved, inventory_memo=self._inventories,
                                 building=self.building, offload=self.offload)
            return got.inventory

        tree = local_tree(spec.abspath, text, name, line=line, memo=self._local, display=spec.path,
                          pretrained=pretrained)
        if tree.inventory is None:
            return Loaded(why=f"{name} is built from code peftlint cannot read statically: {tree.reason}")
        note = f"built statically from {tree.inventory.model_id}; {tree.reason}" if tree.inventory.unknown else ""
        return Loaded(tree.inventory, name, None, model_class=name, note=note)


LOCAL_PREFIX = "local:"  # `# peftlint: model=local:MLP`, `--model local:MLP`: a class of the linted code


def _sub(model: str, subfolder: str | None) -> str | None:
    """The subfolder a configured model stands for: its own (``repo:unet``) wins over the source's."""
    from peftlint.model.resolve import split_subfolder

    return None if split_subfolder(model)[1] else subfolder


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
