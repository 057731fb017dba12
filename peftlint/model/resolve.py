"""Turn a model reference (hub id, local path or alias) into its parsed ``config.json``.

Order: alias expansion → local directory → Hugging Face cache (huggingface_hub's own lookup,
honouring ``revision``) → configs bundled with peftlint → (``online`` only) download of
``config.json`` alone → :class:`Unresolved`. Remote code is never executed here and the network is
never touched unless ``ResolveOptions.online`` is set.

A model stored in a folder of its repository (a diffusers pipeline's ``unet``, ``transformer`` or
``text_encoder``) is named with ``subfolder`` or written ``<repo or path>:<subfolder>``; its config
is ``<subfolder>/config.json`` wherever the repository is found. Which library builds it is read
from the config: diffusers writes ``_class_name`` and ``_diffusers_version`` into every model config.

Importing this module imports neither torch, transformers nor peft; huggingface_hub is imported
lazily, and whether transformers knows a ``model_type`` is asked once per transformers version and
cached (see :func:`peftlint.model.model_types.known_model_type`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from peftlint.model.hub import (
    ResolveFailed,
    bundled_index,
    default_hf_cache,
    download_config,
    find_bundled,
    find_in_hf_cache,
    label,
)
from peftlint.model.model_types import known_model_type
from peftlint.model.names import named_paths_problem
from peftlint.model.offload import Offload, in_process
from peftlint.reading import DEFAULT_MAX_FILE_SIZE, NotReadable, read_limited
from peftlint.store import default_cache_dir

if TYPE_CHECKING:
    from peftlint.config import Settings


# A config.json is a few KB; one over this is not read (a FIFO or /dev/zero never is).
MAX_CONFIG_SIZE = DEFAULT_MAX_FILE_SIZE

# Keys of a config.json that are bookkeeping, never architecture (dropped when bundling).
_PRIVATE_KEYS = ("_source",)


@dataclass
class ResolveOptions:
    """How a model reference may be resolved: aliases, network, remote code."""

    aliases: dict[str, str] = field(default_factory=dict)  # [tool.peftlint] models: alias -> hub id or path
    online: bool = False
    trust_remote_code: bool = False
    hf_cache_dir: str | None = None  # default: huggingface_hub.constants.HF_HUB_CACHE
    endpoint: str | None = None  # hub endpoint for online downloads (tests: a local HTTP server)
    # Directory relative alias targets are resolved against first (the pyproject.toml's directory).
    config_dir: str | None = None
    # peftlint's cache directory (which model types transformers knows); None: nothing cached (--no-cache)
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())
    offload: Offload = in_process  # where transformers is asked for its model types on a cache miss


@dataclass
class Resolved:
    """A model reference resolved to its config.json."""

    ref: str  # the reference after alias expansion
    label: str  # what to show users: hub id, or the local path as given
    config: dict[str, Any]  # the parsed config.json
    config_text: str  # the exact text (used for the cache key)
    source: str  # "local" | "hf-cache" | "bundled" | "online"
    location: str  # path of the config.json that was read (or URL)
    # transformers cannot build the config without remote code: its model_type is unknown to the
    # installed transformers (or missing, with an ``auto_map``). An ``auto_map`` next to a
    # model_type transformers knows does not count: Phi-3's hub config has one, and transformers
    # builds its native class unless trust_remote_code=True.
    needs_remote_code: bool = False
    has_auto_map: bool = False  # the config names remote classes (used with trust_remote_code=True)
    revision: str | None = None
    subfolder: str | None = None  # the repository folder the config was read from
    # "diffusers" when the config is a diffusers model config (``_class_name``), else "transformers"
    library: str = "transformers"

    def runs_remote_code(self, trust_remote_code: bool) -> bool:
        """Whether building with ``trust_remote_code`` loads the model's own code: only for configs
        read from a model folder (a bundled config has no code beside it)."""
        return (
            trust_remote_code
            and (self.needs_remote_code or self.has_auto_map)
            and self.source in ("local", "hf-cache", "online")
        )

    def code_loads_remote_class(self, model_class: str | None) -> bool:
        """Whether code that passes ``trust_remote_code=True`` to ``model_class.from_pretrained`` gets
        the repository's own class although transformers knows the model_type: an auto class the
        config's ``auto_map`` names wins over the native one (``_BaseAutoModelClass.from_pretrained``;
        DeepSeek-V2/V3's hub configs say ``deepseek_v2``/``deepseek_v3`` and map to their own code)."""
        auto_map = self.config.get("auto_map")
        return (
            not self.needs_remote_code
            and self.runs_remote_code(True)
            and isinstance(auto_map, dict)
            and bool(model_class)
            and str(model_class).startswith("Auto")
            and model_class in auto_map
        )


@dataclass
class Unresolved:
    """A model reference that could not be resolved, with why."""

    ref: str
    reason: str  # one sentence a user can act on


def resolve(
    ref: str,
    *,
    revision: str | None = None,
    base_dirs: Sequence[str] = (),
    options: ResolveOptions,
    subfolder: str | None = None,
) -> Resolved | Unresolved:
    """Find the config.json of ``ref``; never raises for bad input, returns :class:`Unresolved`."""
    original = ref
    bad = named_paths_problem(revision, subfolder)
    if bad is not None:
        return Unresolved(original, bad)
    ref, search_dirs = expand_alias(ref, base_dirs, options)
    if subfolder is None:
        ref, subfolder = split_subfolder(ref)
    subfolder = subfolder.strip("/") if subfolder else None
    if not ref.strip():
        return Unresolved(original, "the model reference is empty; pass --model or a hub id")
    filename = f"{subfolder}/config.json" if subfolder else "config.json"
    repo_id: str | None = None
    try:
        local, local_note, pipeline = find_local(ref, search_dirs, subfolder)
        if local is not None:
            return load_config(ref, label(ref, subfolder), local, "local", revision, subfolder, options.cache_dir,
                               offload=options.offload)
        if pipeline:
            return Unresolved(ref, local_note)

        repo_id = as_repo_id(ref)
        cache_dir = options.hf_cache_dir or default_hf_cache()
        if repo_id is not None:
            cached = find_in_hf_cache(repo_id, revision, cache_dir, filename)
            if cached is not None:
                return load_config(ref, label(repo_id, subfolder), Path(cached), "hf-cache", revision, subfolder,
                                   options.cache_dir, offload=options.offload)

            bundled = find_bundled(repo_id, subfolder)
            if bundled is not None:
                return load_config(ref, label(repo_id, subfolder), bundled, "bundled", revision, subfolder,
                                   options.cache_dir, offload=options.offload)

            if not subfolder:
                pipeline_note = _pipeline_note(repo_id, revision, cache_dir)
                if pipeline_note:
                    return Unresolved(ref, pipeline_note)

            if options.online:
                downloaded = download_config(repo_id, revision, cache_dir, options.endpoint, subfolder)
                return load_config(ref, label(repo_id, subfolder), Path(downloaded), "online", revision, subfolder,
                                   options.cache_dir, offload=options.offload)
    except ResolveFailed as exc:
        return Unresolved(ref, str(exc))

    return Unresolved(ref, _unresolved_reason(ref, repo_id, local_note, cache_dir, revision, filename))


def split_subfolder(ref: str) -> tuple[str, str | None]:
    """``"<repo or path>:<subfolder>"`` -> (repo or path, subfolder); other references unchanged.

    Hub ids never contain ``:``; a Windows drive (``C:\\x``) and an existing path are left alone.
    """
    head, sep, tail = ref.rpartition(":")
    if not sep or len(head) < 2 or not _SUBFOLDER.fullmatch(tail) or os.path.exists(ref):
        return ref, None
    return head, tail


_SUBFOLDER = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


def resolve_options(settings: "Settings") -> ResolveOptions:
    """The resolution options a run's settings give."""
    s = settings
    return ResolveOptions(aliases=dict(s.models), online=bool(s.online), trust_remote_code=bool(s.trust_remote_code),
                          cache_dir=s.cache_directory())


# -- alias and local lookup -----------------------------------------------------------------------


def expand_alias(ref: str, base_dirs: Sequence[str], options: ResolveOptions) -> tuple[str, list[str]]:
    search_dirs = list(base_dirs)
    seen = {ref}
    while ref in options.aliases:
        ref = options.aliases[ref]
        if options.config_dir:
            search_dirs = [options.config_dir, *search_dirs]
        if ref in seen:  # alias cycle: stop at the first repetition
            break
        seen.add(ref)
    return ref, search_dirs


def find_local(ref: str, base_dirs: Sequence[str],
                subfolder: str | None = None) -> tuple[Path | None, str, bool]:
    """The config.json file for a local reference, or None plus a note for the unresolved reason
    (and whether the note is that the directory is a diffusers pipeline)."""
    expanded = os.path.expanduser(ref)
    candidates = [Path(b) / expanded for b in base_dirs] + [Path(expanded)]
    note = ""
    for cand in candidates:
        try:
            if cand.is_dir():
                cfg = cand / subfolder / "config.json" if subfolder else cand / "config.json"
                if cfg.is_file():
                    return cfg, "", False
                components = [] if subfolder else _local_components(cand)
                if components:
                    return None, _components_hint(ref, components), True
                if not note:
                    what = f"{subfolder}/config.json" if subfolder else "config.json"
                    note = f"the local directory {cand} has no {what}"
            elif cand.is_file() and cand.suffix == ".json" and not subfolder:
                return cand, "", False
        except OSError:  # unreadable path component, name too long, ...
            continue
    return None, note, False


# -- diffusers pipelines: a model_index.json and one folder per component ---------------------------


def _local_components(directory: Path) -> list[str]:
    """Folders of a local diffusers pipeline that hold a model config, in model_index.json order."""
    index = directory / "model_index.json"
    if not index.is_file():
        return []
    names = _index_components(index)
    return [n for n in names if (directory / n / "config.json").is_file()]


def _index_components(path: Path) -> list[str]:
    try:
        data = json.loads(read_limited(path, MAX_CONFIG_SIZE).decode("utf-8-sig"))
    except (OSError, NotReadable, ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    # a component is ``"unet": ["diffusers", "UNet2DConditionModel"]``; null entries are absent parts
    return [k for k, v in data.items() if not k.startswith("_") and isinstance(v, list) and len(v) == 2
            and all(isinstance(x, str) for x in v)]


def _components_hint(name: str, components: list[str]) -> str:
    shown = ", ".join(f"`{name}:{c}`" for c in components)
    return (f"{name} is a diffusers pipeline (model_index.json), not one model: name the component an adapter "
            f"is for, e.g. {shown}")


def _pipeline_note(repo_id: str, revision: str | None, cache_dir: str) -> str:
    """Why a pipeline repository without a subfolder is not one model (empty when it is not a pipeline)."""
    cached = find_in_hf_cache(repo_id, revision, cache_dir, "model_index.json")
    if cached is not None:
        names = _index_components(Path(cached))
        found = [n for n in names if find_in_hf_cache(repo_id, revision, cache_dir, f"{n}/config.json")]
        return _components_hint(repo_id, found or names)
    bundled = bundled_components(repo_id)
    return _components_hint(repo_id, bundled) if bundled else ""


def bundled_components(repo_id: str) -> list[str]:
    """Subfolders of ``repo_id`` whose configs are bundled (diffusers pipelines)."""
    lowered = repo_id.lower()
    return [v["subfolder"] for v in bundled_index().values()
            if v.get("subfolder") and str(v.get("repo", "")).lower() == lowered]


def _looks_like_path(ref: str) -> bool:
    return (
        ref.startswith((".", "/", "~", "\\"))
        or "\\" in ref
        or ref.count("/") > 1
        or (len(ref) > 1 and ref[1] == ":")  # C:\...
    )


def as_repo_id(ref: str) -> str | None:
    """``ref`` if it is a valid hub repo id, else None (it can only have been a local path)."""
    if _looks_like_path(ref):
        return None
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(ref)
    except HFValidationError:
        return None
    return ref


# -- reading the file -----------------------------------------------------------------------------


def load_config(ref: str, label: str, path: Path, source: str, revision: str | None,
                subfolder: str | None = None, cache_dir: Path | None = None, *,
                offload: Offload = in_process) -> Resolved:
    """The config.json at ``path`` as a :class:`Resolved`; :class:`ResolveFailed` says why it cannot be used."""
    try:
        raw = read_limited(path, MAX_CONFIG_SIZE)
    except NotReadable as exc:
        raise ResolveFailed(f"{path} was not read: {exc}") from None
    except OSError as exc:
        raise ResolveFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ResolveFailed(f"{path} is not UTF-8 text; it cannot be a config.json") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "delete the cached file or re-download it" if source in ("hf-cache", "online") else "fix the file"
        raise ResolveFailed(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); {hint}"
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer over 4300 digits, nesting deeper than Python's stack
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise ResolveFailed(f"{path} cannot be read as a config.json: {what}") from None
    if not isinstance(config, dict):
        raise ResolveFailed(f"{path} does not hold a JSON object, so it is not a transformers config.json")
    for key in _PRIVATE_KEYS:
        config.pop(key, None)
    if is_diffusers_config(config):
        return Resolved(ref=ref, label=label, config=config, config_text=text, source=source, location=str(path),
                        revision=revision, subfolder=subfolder, library="diffusers")
    model_type = config.get("model_type")
    has_auto_map = isinstance(config.get("auto_map"), dict) and bool(config["auto_map"])
    if isinstance(model_type, str) and model_type:
        needs_remote = not known_model_type(model_type, cache_dir, offload)
    else:  # transformers guesses a missing model_type from the repo name, unless auto_map names a class
        needs_remote = has_auto_map
    return Resolved(
        ref=ref,
        label=label,
        config=config,
        config_text=text,
        source=source,
        location=str(path),
        needs_remote_code=needs_remote,
        has_auto_map=has_auto_map,
        revision=revision,
        subfolder=subfolder,
    )


def is_diffusers_config(config: dict[str, Any]) -> bool:
    """A diffusers model config: ``ConfigMixin.save_config`` writes ``_class_name`` and
    ``_diffusers_version``; transformers configs have neither."""
    return isinstance(config.get("_class_name"), str) and "model_type" not in config


def _unresolved_reason(
    ref: str,
    repo_id: str | None,
    local_note: str,
    cache_dir: str,
    revision: str | None,
    filename: str = "config.json",
) -> str:
    if repo_id is None:
        base = local_note or f"{ref} is not a local directory with a {filename}"
        return f"{base}, and it is not a valid Hugging Face Hub id; check the path or pass --model"
    at = f" at revision {revision}" if revision else ""
    parts = [local_note or "not a local directory", f"not in the Hugging Face cache{at} ({_short(cache_dir)})", "not bundled"]
    return ", ".join(parts) + f"; pass --online to download its {filename}, or --model"


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home and path.startswith(home + os.sep) else path
