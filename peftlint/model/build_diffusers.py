"""Build a diffusers model (UNet, diffusion transformer, ...) on the torch ``meta`` device.

diffusers is an optional dependency (``pip install "peftlint[diffusers]"``): it is imported here
only, when a diffusers config has to be built, so nothing on the transformers path needs it.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved

INSTALL_HINT = 'install diffusers to check it: pip install "peftlint[diffusers]"'


class BuildError(Exception):
    """The model could not be built; the message is meant for users (re-exported by ``build``)."""


# Keys of a diffusers config.json that are bookkeeping, not constructor arguments.
_BOOKKEEPING = ("_class_name", "_diffusers_version", "_name_or_path", "_use_default_values", "_commit_hash")


def build_diffusers_model(resolved: "Resolved", model_class: str) -> tuple[Any, str]:
    """(model on the meta device, a note when another class than ``model_class`` was built).

    The model is built as ``from_pretrained`` builds it, without weights: ``cls.from_config(config)``
    under ``torch.device("meta")``. ``model_class`` is the class named in the code; when diffusers
    has no such class, or it cannot take this config, the config's ``_class_name`` is built (what
    ``diffusers.AutoModel`` picks) and the note says so.
    """
    try:
        import diffusers
    except ImportError:
        raise BuildError(f"{resolved.label} is a diffusers model ({resolved.config.get('_class_name')}); "
                         f"{INSTALL_HINT}") from None
    import torch

    config = {k: v for k, v in resolved.config.items() if k not in _BOOKKEEPING}
    own = str(resolved.config.get("_class_name") or "")
    names = [model_class] + ([own] if own and own != model_class else [])
    tried: list[str] = []
    with _quiet():
        for name in names:
            cls = getattr(diffusers, name, None) if name.isidentifier() else None
            if cls is None or not hasattr(cls, "from_config") or name == "AutoModel":
                tried.append(f"{name} (not a diffusers model class)")
                continue
            try:
                with torch.device("meta"):
                    model = cls.from_config(config)
            except Exception as exc:
                tried.append(f"{name} ({_one_line(exc)})")
                continue
            note = "" if name == model_class else f"{model_class} cannot build this config: " + "; ".join(tried)
            return model, note
    raise BuildError(f"diffusers cannot build {resolved.label}: " + "; ".join(tried))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    from diffusers.utils import logging as dlogging

    previous = dlogging.get_verbosity()
    dlogging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        dlogging.set_verbosity(previous)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
