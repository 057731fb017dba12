"""Model reference → inventory, offline by default: shared by linting and ``peftlint modules``.

resolve (alias, local path, Hugging Face cache, bundled, ``--online``) → model class → cached
inventory (built on the meta device on a miss, where the given ``Offload`` runs it: the language
server's worker process, else here). Never raises for a bad reference: the reason comes back as
text, with whether remote code is what stopped it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Sequence

from peftlint import store
from peftlint.config import Settings
from peftlint.model.cache import InventoryCache
from peftlint.model.classes import pick_diffusers_class, pick_model_class
from peftlint.model.inventory import Inventory
from peftlint.model.offload import Offload, in_process
from peftlint.model.resolve import Resolved, Unresolved
from peftlint.model.resolve_cache import resolve_memo

# Called with the model's name around a build (torch imported, the model made on the meta device,
# seconds): the language server shows it as work-done progress.
Building = Callable[[str, str], ContextManager[object]]


@dataclass
class Loaded:
    inventory: Inventory | None = None
    label: str | None = None  # the resolved model's display name
    resolved: Resolved | None = None
    why: str = ""  # why there is no inventory
    needs_remote_code: bool = False  # what stopped it is a model that needs trust_remote_code
    model_class: str = ""
    note: str = ""  # how the tree was obtained when the summary should say so (a partial static tree)
    failed: str = ""  # what went wrong, for the one-line note ("cannot be loaded by AutoModelForCausalLM")


def get_inventory(
    resolved: Resolved, model_class: str, cache: InventoryCache, *, trust_remote_code: bool = False,
    max_modules: int | None = None, building: Building | None = None, offload: Offload = in_process,
) -> Inventory:
    """The cached inventory of ``resolved`` built as ``model_class``, building and storing it on a miss
    (inside ``building(label, model_class)`` when given: waiting for another process's build included).
    The build runs where ``offload`` runs it (the language server: its worker process).

    Raises ``peftlint.model.build.BuildError`` when the model cannot be built, ``OffloadFailed`` when
    the process building it died.
    """
    key = cache.key(resolved, model_class, trust_remote_code=trust_remote_code)
    inv = cache.load(key, resolved)
    if inv is None:
        shown = building(resolved.label, model_class) if building is not None else contextlib.nullcontext()
        with shown:
            return offload(build_and_store, resolved, model_class, cache.directory, key,
                           trust_remote_code=trust_remote_code, max_modules=max_modules)
    # the same config text can be reached under another name (alias, local copy, legacy id)
    inv.model_id = resolved.label
    return inv


def build_and_store(resolved: Resolved, model_class: str, cache_dir: Path | None, key: str, *,
                    trust_remote_code: bool = False, max_modules: int | None = None) -> Inventory:
    """Build the model on the meta device and store its inventory under ``key`` (imports torch and
    transformers): what ``get_inventory`` offloads on a miss."""
    cache = InventoryCache(cache_dir)
    # Processes sharing the cache (the workers of one run, concurrent runs) build each model
    # once: the first holds the lock and builds, the others wait and then read its entry.
    with store.file_lock(cache.directory, f"inventory-{key}"):
        inv = cache.load(key, resolved)
        if inv is not None:
            inv.model_id = resolved.label
            return inv
        from peftlint.model import build

        limit = {} if max_modules is None else {"max_modules": max_modules}
        inv = build.build_inventory(resolved, model_class, trust_remote_code=trust_remote_code, **limit)
        cache.store(key, inv)
        return inv


def load_inventory(
    ref: str,
    settings: Settings,
    cache_dir: Path | None,
    *,
    revision: str | None = None,
    base_dirs: Sequence[str] = (),
    model_class: str | None = None,
    task_type: str | None = None,
    how: str = "",
    resolved_memo: dict | None = None,
    inventory_memo: dict | None = None,
    subfolder: str | None = None,
    library: str | None = None,
    building: Building | None = None,
    offload: Offload = in_process,
) -> Loaded:
    """The inventory of ``ref`` as ``settings`` allow (online, trust_remote_code, aliases).

    ``subfolder`` names a model stored in a folder of its repository (a diffusers pipeline's
    ``unet``); ``ref`` may also say it as ``repo:unet``. Which library builds the model is read from
    its config; ``library`` is what the code implied, and a class named for another library than
    the config's is ignored. The memo dicts let one run resolve and build each model once;
    ``building`` is told of a build (see ``Building``); ``offload`` runs it (see ``model.offload``).
    """
    resolved_memo = {} if resolved_memo is None else resolved_memo
    inventory_memo = {} if inventory_memo is None else inventory_memo
    s = settings
    res = resolve_memo(ref, settings, revision=revision, base_dirs=base_dirs, memo=resolved_memo, subfolder=subfolder,
                       cache_dir=cache_dir, offload=offload)
    key = (s.models.get(ref, ref), subfolder, revision, tuple(base_dirs))
    via = f" (from {how})" if how else ""
    if isinstance(res, Unresolved):
        return Loaded(why=f"{ref!r}{via}: {res.reason}")
    trust = bool(s.trust_remote_code)
    if res.needs_remote_code and not trust:
        return Loaded(why=(f"{res.label} needs trust_remote_code to build (custom modeling code); peftlint never runs "
                           "remote code unless you pass --trust-remote-code, so model-aware checks were skipped"),
                      needs_remote_code=True)
    if library and library != res.library:
        model_class = None  # e.g. a diffusers class named for what turned out to be a transformers text encoder
    if res.library == "diffusers":
        cls = pick_diffusers_class(res.config, model_class)
    else:
        cls = pick_model_class(res.config, model_class, task_type)
    ikey = (key, cls)
    if ikey not in inventory_memo:
        try:
            inventory_memo[ikey] = get_inventory(res, cls, InventoryCache(cache_dir), trust_remote_code=trust,
                                                 max_modules=s.max_model_modules, building=building,
                                                 offload=offload)
        except Exception as exc:  # the model cannot be built: say why, lint the rest
            inventory_memo[ikey] = exc
    inv = inventory_memo[ikey]
    if isinstance(inv, Exception):
        return Loaded(why=f"{res.label}{via} could not be built on the meta device: {inv}", model_class=cls)
    return Loaded(inv, res.label, res, model_class=cls)
