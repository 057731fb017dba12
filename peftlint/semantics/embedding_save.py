"""Which embedding weights PEFT writes into the adapter file in full (docs/peft-behaviour.md#saved-embeddings).

``get_peft_model_state_dict`` (``save_embedding_layers="auto"``, what ``save_pretrained`` uses)
adds the base weight of the input and output embedding to the adapter only when

- the config is not a TrainableTokens one and has no ``trainable_token_indices``;
- ``target_modules`` names an embedding *by peft's names* ``embed_tokens`` / ``lm_head``: a list
  holding one of them as an exact entry (``"model.embed_tokens"`` does not count), or a regex string
  that fully matches a module whose last part is one of them (``"all-linear"`` never counts);
- the model has ``get_input_embeddings`` (a transformers model; a plain ``nn.Module`` gets the
  warning "Could not identify embedding layer(s)" instead);
- and the layer ``get_input_embeddings()`` / ``get_output_embeddings()`` returns got an adapter
  (a wrapped Linear or Embedding).

Anything else — ``wte`` on gpt2, ``emb`` on a custom class — saves only the adapter's own
``lora_embedding_A/B``. tests/semantics/test_embedding_save.py checks this against peft.
"""

from __future__ import annotations

import re
from typing import Any

from peftlint.model import inventory as inv
from peftlint.semantics import regex_budget as budgeted

# peft.utils.constants.EMBEDDING_LAYER_NAMES
EMBEDDING_LAYER_NAMES = ("embed_tokens", "lm_head")
_BY_NAME = re.compile(r"(.*\.)?(embed_tokens|lm_head)$")


def embedding_named(target_modules: Any, module_names: list[str]) -> bool:
    """peft's ``embedding_is_targeted``: the targets name an embedding by peft's names."""
    if isinstance(target_modules, str):
        if target_modules == "all-linear":
            return False
        return any(_fullmatch(target_modules, k) for k in module_names if _BY_NAME.match(k))
    if isinstance(target_modules, (list, tuple, set)):
        return any(name in target_modules for name in EMBEDDING_LAYER_NAMES)
    return False


def _fullmatch(pattern: str, key: str) -> bool:
    try:
        return budgeted.fullmatch(pattern, key) is not None
    except re.error:
        return False


def saved_in_full(method: str, target_modules: Any, trainable_token_indices: Any, inventory: inv.Inventory,
                  targeted: list[str]) -> list[str]:
    """Names of the embedding modules whose whole base weight the saved adapter holds."""
    if method == "TRAINABLE_TOKENS" or trainable_token_indices is not None:
        return []
    if not inventory.is_pretrained_model or not embedding_named(target_modules, inventory.names()):
        return []
    out = []
    for name in (inventory.input_embedding, inventory.output_embedding):
        m = inventory.module(name) if name else None
        if m is not None and name in targeted and m.kind in (inv.EMBEDDING, inv.LINEAR) and name not in out:
            out.append(name)
    return out
