"""Which model types the installed transformers knows: asked from transformers once per version and
remembered in the cache directory, so warm runs import neither transformers nor torch."""

from __future__ import annotations

import functools
from pathlib import Path

from peftlint import __version__, store

TYPES_PREFIX = "modeltypes-"


def known_model_type(model_type: str, cache_dir: Path | None = None) -> bool:
    """Whether the installed transformers has a config class for ``model_type``
    (``CONFIG_MAPPING_NAMES``: what ``AutoConfig`` can build without remote code)."""
    return model_type in model_types(cache_dir)


@functools.lru_cache(maxsize=None)
def model_types(cache_dir: Path | None) -> frozenset[str]:
    key = store.digest({
        "transformers": store.package_versions("transformers")["transformers"],
        "peftlint": __version__,
        "source": store.source_digest("model/model_types.py"),
    })
    path = store.entry_path(cache_dir, TYPES_PREFIX, key)
    payload = store.read_entry(path, key)
    if isinstance(payload, list) and payload and all(isinstance(n, str) for n in payload):
        return frozenset(payload)
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    names = sorted(CONFIG_MAPPING_NAMES)
    store.write_entry(path, key, names)
    return frozenset(names)
