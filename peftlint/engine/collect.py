"""Every base model a project names, without building any: the files ``peftlint PATH`` would lint,
read by the same source readers, each spec's model chosen as the linter chooses it. Used by
``peftlint cache fetch`` to fill the Hugging Face cache with the config.json files a later offline
run needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from peftlint.config import Settings
from peftlint.engine import discover as disc
from peftlint.engine.reading import decode_source
from peftlint.engine.run import Linter
from peftlint.reading import NotReadable, read_limited
from peftlint.spec import AdapterSpec, ModelRef


@dataclass
class NamedModel:
    ref: str
    revision: str | None
    subfolder: str | None
    base_dirs: list[str] = field(default_factory=list)  # where a relative path may be relative to
    used_at: list[str] = field(default_factory=list)  # "path:line" of the configs that name it
    settings: Settings = field(default_factory=Settings)  # of the configuration it is first named under (aliases)


@dataclass
class Collected:
    models: list[NamedModel] = field(default_factory=list)
    files: int = 0
    unreadable: list[str] = field(default_factory=list)  # files a reader failed on


def collect_models(linter: Linter, paths: Iterable[Path]) -> Collected:
    """The models named under ``paths``, each file read with the settings of its configuration
    (``linter.hierarchy``, as ``peftlint check`` reads it)."""
    out = Collected()
    by_key: dict[tuple[str, str | None, str | None, str], NamedModel] = {}
    for sub, cands in linter.walk_by_configuration(paths):
        for cand in cands:
            for spec in _specs(sub, cand, out):
                for ref in _refs(sub, spec):
                    # an alias means what its own configuration says
                    key = (ref.ref, ref.revision, ref.subfolder, sub.settings.models.get(ref.ref, ""))
                    named = by_key.get(key)
                    if named is None:
                        named = by_key[key] = NamedModel(ref.ref, ref.revision, ref.subfolder, settings=sub.settings)
                        out.models.append(named)
                    for d in (ref.base_dir, str(Path(spec.abspath).parent) if spec.abspath else None):
                        if d and d not in named.base_dirs:
                            named.base_dirs.append(d)
                    named.used_at.append(f"{spec.path}:{spec.span.line}")
    return out


def _specs(linter: Linter, cand: disc.Candidate, out: Collected) -> list[AdapterSpec]:
    """The configs of one walked file (counted in ``out.files`` when read; ``out.unreadable`` when
    it cannot be)."""
    if cand.kind in (disc.ORPHAN_WEIGHTS, disc.DIFFUSERS_LORA):
        return []
    try:  # a FIFO, a link to /dev/zero, a 3 GB file: not read, and said so
        data = read_limited(cand.path, linter.settings.max_file_size)
    except NotReadable:
        out.unreadable.append(disc.candidate_display_path(cand, linter.cwd))
        return []
    except OSError:
        return []
    text = decode_source(data, cand.kind)
    if text is None:
        return []
    out.files += 1
    reader = linter.readers.get(cand.kind)
    if reader is None or "\x00" in text[:8192] or not linter.passes_prefilter(cand.kind, text):
        return []
    path = disc.candidate_display_path(cand, linter.cwd)
    try:
        return list(reader(text, path, str(cand.path), linter).specs)
    except Exception:  # a reader bug: `peftlint check` reports it as PFT999
        out.unreadable.append(path)
        return []


def _refs(linter: Linter, spec: AdapterSpec) -> list[ModelRef]:
    """The models the linter would check this spec against; classes defined in the code are no
    downloads."""
    first = linter.choose_ref(spec)
    refs = ([first] if first is not None else []) + [r for r in spec.other_models if r is not first]
    return [r for r in refs if r.library != "local"]
