"""Which model types the installed transformers knows: asked from transformers once per version and
remembered in the cache directory, so warm runs import neither transformers nor torch."""

from __future__ import annotations

from pathlib import Path

from peftlint import __version__, store
from peftlint.model.offload import Offload, in_process

TYPES_PREFIX = "modeltypes-"


def known_model_type(model_type: str, cache_dir: Path | None = None, offload: Offload = in_process) -> bool:
    """Whether the installed transformers has a config class for ``model_type``
    (``CONFIG_MAPPING_NAMES``: what ``AutoConfig`` can build without remote code); on a cache miss
    transformers is asked where ``offload`` runs it (the language server: its worker process)."""
    return model_type in model_types(cache_dir, offload)


def model_types(cache_dir: Path | None, offload: Offload = in_process) -> frozenset[str]:
    """The model types, read once per process and cache directory (``_KNOWN``)."""
    known = _KNOWN.get(cache_dir)
    if known is None:
        known = _KNOWN[cache_dir] = _read_or_ask(cache_dir, offload)
    return known


_KNOWN: dict[Path | None, frozenset[str]] = {}


def _read_or_ask(cache_dir: Path | None, offload: Offload) -> frozenset[str]:
    key = store.digest({
        "transformers": store.package_versions("transformers")["transformers"],
        "peftlint": __version__,
        "source": store.source_digest("model/model_types.py"),
    })
    path = store.entry_path(cache_dir, TYPES_PREFIX, key)
    payload = store.read_entry(path, key)
    if isinstance(payload, list) and payload and all(isinstance(n, str) for n in payload):
        return frozenset(payload)
    names = offload(transformers_model_types)
    store.write_entry(path, key, names)
    return frozenset(names)


def transformers_model_types() -> list[str]:
    """The model types of the installed transformers (imports it)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return sorted(CONFIG_MAPPING_NAMES)
