"""Model reference → inventory, offline by default: shared by linting and ``peftlint modules``.

resolve (alias, local path, Hugging Face cache, bundled, ``--online``) → model class → cached
inventory (built on the meta device on a miss). Never raises for a bad reference: the reason comes
back as text, with the code of the note the linter reports (PFT901 or PFT903).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from peftlint.config import Settings

UNRESOLVED, REMOTE_CODE = "PFT901", "PFT903"


@dataclass
class Loaded:
    inventory: Any = None  # Inventory | None
    label: str | None = None  # the resolved model's display name
    resolved: Any = None  # resolve.Resolved | None
    why: str = ""  # why there is no inventory
    code: str = ""  # UNRESOLVED or REMOTE_CODE when there is none
    model_class: str = ""


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
) -> Loaded:
    """The inventory of ``ref`` as ``settings`` allow (online, trust_remote_code, aliases).

    The memo dicts let one run resolve and build each model once.
    """
    from peftlint.model.resolve import ResolveOptions, Unresolved, resolve

    resolved_memo = {} if resolved_memo is None else resolved_memo
    inventory_memo = {} if inventory_memo is None else inventory_memo
    s = settings
    name = s.models.get(ref, ref)
    key = (name, revision, tuple(base_dirs))
    if key not in resolved_memo:
        opts = ResolveOptions(aliases=dict(s.models), online=bool(s.online), trust_remote_code=bool(s.trust_remote_code))
        resolved_memo[key] = resolve(ref, revision=revision, base_dirs=tuple(base_dirs), options=opts)
    res = resolved_memo[key]
    via = f" (from {how})" if how else ""
    if isinstance(res, Unresolved):
        return Loaded(why=f"{ref!r}{via}: {res.reason}", code=UNRESOLVED)
    trust = bool(s.trust_remote_code)
    if res.needs_remote_code and not trust:
        return Loaded(why=(f"{res.label} needs trust_remote_code to build (custom modeling code); peftlint never runs "
                           "remote code unless you pass --trust-remote-code, so model-aware checks were skipped"),
                      code=REMOTE_CODE)
    from peftlint.model.build import pick_model_class

    cls = pick_model_class(res.config, model_class, task_type)
    ikey = (key, cls)
    if ikey not in inventory_memo:
        from peftlint.model.cache import InventoryCache, get_inventory

        try:
            inventory_memo[ikey] = get_inventory(res, cls, InventoryCache(cache_dir), trust_remote_code=trust)
        except Exception as exc:  # the model cannot be built: say why, lint the rest
            inventory_memo[ikey] = exc
    inv = inventory_memo[ikey]
    if isinstance(inv, Exception):
        return Loaded(why=f"{res.label}{via} could not be built on the meta device: {inv}", code=UNRESOLVED,
                      model_class=cls)
    return Loaded(inv, res.label, res, "", "", cls)
