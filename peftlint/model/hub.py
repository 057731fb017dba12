"""Where a config.json may be found beyond the local disk: the Hugging Face cache (read with
huggingface_hub, honouring its on-disk layout and ``revision``), the configs bundled with
peftlint, and (``--online`` only) a download of that one file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peftlint import __version__
from peftlint.redact import redact

if TYPE_CHECKING:
    import logging

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED_INDEX = BUNDLED_DIR / "bundled_index.json"
BUNDLED_MODELS = BUNDLED_DIR / "models"


class ResolveFailed(Exception):
    """A config.json was found but cannot be used; the message is the user-facing reason."""


def label(name: str, subfolder: str | None) -> str:
    """``repo`` or ``repo:subfolder``: how a model is named in messages and the bundled index."""
    return f"{name}:{subfolder}" if subfolder else name


def default_hf_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def find_in_hf_cache(repo_id: str, revision: str | None, cache_dir: str, filename: str = "config.json") -> str | None:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision)
    except (OSError, ValueError):  # unreadable cache folder, odd revision string
        return None
    # ``_CACHED_NO_EXIST`` (a sentinel object) means "known not to exist at that revision".
    return found if isinstance(found, str) else None


def bundled_index() -> dict[str, dict[str, Any]]:
    """hub id -> {"file", "source"[, "alias_of"]} for the configs shipped with peftlint.

    A model in a folder of its repository is keyed ``"<repo>:<subfolder>"`` (the notation users
    write) and its entry also names ``"repo"`` and ``"subfolder"``; ``"library"`` says who builds it
    when that is not transformers.
    """
    return json.loads(BUNDLED_INDEX.read_text(encoding="utf-8"))


def find_bundled(repo_id: str, subfolder: str | None = None) -> Path | None:
    index = bundled_index()
    repo_id = label(repo_id, subfolder)
    entry = index.get(repo_id)
    if entry is None:
        lowered = repo_id.lower()
        entry = next((v for k, v in index.items() if k.lower() == lowered), None)
    if entry is None:
        return None
    path = BUNDLED_MODELS / entry["file"]
    return path if path.is_file() else None


def download_config(repo_id: str, revision: str | None, cache_dir: str, endpoint: str | None,
              subfolder: str | None = None) -> str:
    from huggingface_hub import errors as hf_errors
    from huggingface_hub import hf_hub_download

    filename = f"{subfolder}/config.json" if subfolder else "config.json"
    _redact_hub_logs()
    try:
        return hf_hub_download(
            repo_id,
            "config.json",
            subfolder=subfolder or None,
            revision=revision,
            cache_dir=cache_dir,
            endpoint=endpoint,
            library_name="peftlint",
            library_version=__version__,
        )
    except hf_errors.LocalEntryNotFoundError as exc:  # the hub could not be reached at all
        from huggingface_hub import constants

        cause = exc.__cause__
        if isinstance(cause, hf_errors.OfflineModeIsEnabled) or constants.is_offline_mode():
            raise ResolveFailed(f"HF_HUB_OFFLINE is set, so {repo_id}'s config.json was not downloaded") from None
        where = redact(endpoint or constants.ENDPOINT)
        detail = f": {_one_line(cause)}" if cause is not None else ""
        raise ResolveFailed(f"could not reach {where} to download {filename} of {repo_id}{detail}") from None
    except hf_errors.GatedRepoError:
        raise ResolveFailed(
            f"{repo_id} is a gated repository; accept its licence on the hub and log in "
            "(`hf auth login`), or pass --model with a local copy"
        ) from None
    except hf_errors.RepositoryNotFoundError:
        raise ResolveFailed(
            f"{repo_id} does not exist on the Hugging Face Hub (or is private); check the id or log in"
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise ResolveFailed(f"revision {revision!r} of {repo_id} does not exist on the Hugging Face Hub") from None
    except hf_errors.EntryNotFoundError:
        if subfolder:
            raise ResolveFailed(f"{repo_id} has no {filename} on the Hugging Face Hub; check the subfolder") from None
        raise ResolveFailed(f"{repo_id} has no config.json on the Hugging Face Hub; it is not a transformers model "
                      "(for a diffusers pipeline, name its component: `repo:unet`)") from None
    except hf_errors.OfflineModeIsEnabled:
        raise ResolveFailed(f"HF_HUB_OFFLINE is set, so {repo_id}'s config.json was not downloaded") from None
    except Exception as exc:  # network errors come from httpx/requests and vary by version
        raise ResolveFailed(f"downloading {filename} of {repo_id} failed: {_one_line(exc)}") from None


class _RedactingFilter:
    """huggingface_hub logs each retry with the request URL, credentials included. (A handler takes
    any object with a ``filter`` method; not deriving from ``logging.Filter`` keeps ``logging``
    out of runs that never reach the hub.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


def _redact_hub_logs() -> None:
    import logging

    from huggingface_hub.utils import logging as hf_logging

    root = hf_logging.get_logger()  # the library's own logger, whose handler prints every record
    for handler in [*root.handlers, *logging.getLogger().handlers]:
        if not any(isinstance(f, _RedactingFilter) for f in handler.filters):
            handler.addFilter(_RedactingFilter())


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)
