"""The model the linted code really gets, when it differs from the tree peftlint would check:

- Code that loads a model with ``trust_remote_code=True`` whose config maps the auto class to the
  repository's own modeling code gets that class, not the native one peftlint builds (DeepSeek-V2/V3
  on the hub): the model-aware rules are skipped (PFT903) unless ``--trust-remote-code``.
- Code that names an auto class with no model for the config's type (``AutoModelForCausalLM`` on
  a T5 config) gets a ValueError from transformers, not a model: the class peftlint falls back to
  is not checked in its place (PFT901 says why).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from peftlint.model.load import Loaded
    from peftlint.spec import ModelRef


def as_the_code_loads_it(ref: ModelRef, got: Loaded, trust_remote_code: bool) -> Loaded:
    """``got`` (what ``load_inventory`` built for ``ref``), or why it is not the code's model."""
    from peftlint.model.load import Loaded

    res, inv = got.resolved, got.inventory
    if res is None or inv is None:
        return got
    if ref.trust_remote_code and not trust_remote_code and res.code_loads_remote_class(got.model_class):
        auto_map = res.config.get("auto_map") or {}
        remote = str(auto_map.get(got.model_class, "")) if isinstance(auto_map, dict) else ""
        why = (f"{res.label} is loaded with trust_remote_code=True and its config's auto_map names its own "
               f"{got.model_class} class ({remote}), which transformers builds instead of the native "
               f"`{res.config.get('model_type')}` class; peftlint never runs remote code unless you pass "
               "--trust-remote-code, so model-aware checks were skipped")
        return Loaded(why=why, needs_remote_code=True, model_class=got.model_class)
    asked = inv.requested_class
    if ref.class_from_code and asked.startswith("AutoModel") and asked == ref.model_class and inv.auto_class_refused():
        why = (f"{asked} has no model for {res.label} (model_type `{res.config.get('model_type')}`): transformers "
               f"raises ValueError there, before PEFT runs; it would be a {inv.model_class}, but that is not "
               "what the code loads")
        return Loaded(why=why, model_class=asked, failed=f"cannot be loaded by {asked}")
    return got

