"""A model the linted code loads with ``trust_remote_code=True`` whose config maps the auto class to
the repository's own modeling code: transformers builds that code, not the native class peftlint
would check, so the model-aware rules are skipped (PFT903) unless ``--trust-remote-code``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peftlint.model.load import Loaded


def remote_class_skipped(got: Loaded) -> Loaded:
    from peftlint.model.load import Loaded

    assert got.resolved is not None
    label = got.resolved.label
    auto_map = got.resolved.config.get("auto_map") or {}
    remote = str(auto_map.get(got.model_class, "")) if isinstance(auto_map, dict) else ""
    why = (f"{label} is loaded with trust_remote_code=True and its config's auto_map names its own "
           f"{got.model_class} class ({remote}), which transformers builds instead of the native "
           f"`{got.resolved.config.get('model_type')}` class; peftlint never runs remote code unless you pass "
           "--trust-remote-code, so model-aware checks were skipped")
    return Loaded(why=why, needs_remote_code=True, model_class=got.model_class)
