"""The result cache: a file's findings are reused while nothing they depend on has changed.

One entry per linted file, ``result-<key>.json`` in the cache directory (written atomically through
``store``). The entry's *name* covers what is fixed for a run: the file's path, kind and display
path, the working directory, every setting that can change findings (selection, per-file ignores,
models, strict, unsafe fixes, online, trust-remote-code ...), and the versions of Python, peftlint
(with a digest of its own source), torch, transformers, peft and the parsers. The entry's *content*
records what can change between two runs with the same name:

* the SHA-256 of the file's bytes;
* a fingerprint of every other file the findings were read from (``SourceResult.dependencies``, and
  the weight files beside a saved adapter's ``adapter_config.json``);
* every model reference that was resolved while linting the file, with the stat data of everything
  the resolution looked at (``resolution_probes``) and a fingerprint of what it found (the config
  text's hash, or why nothing was found).

A hit needs all three to match. The references are checked with stat calls only; when those differ
(a config.json added to the Hugging Face cache, a local model folder edited) the reference is
resolved again and compared by result, so an unrelated change costs a resolution, not a re-lint.
Anything unreadable or of another shape is a miss, and is overwritten.

Size: at most ``MAX_ENTRIES`` entries and ``MAX_BYTES`` bytes; a run that wrote entries removes the
least recently used ones (by modification time; a hit refreshes an entry older than a day) down to
80 % of both limits.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Union

from peftlint import __version__, store, typedjson
from peftlint.config import Settings
from peftlint.diagnostics import Diagnostic, Span
from peftlint.engine.results import SpecOutcome
from peftlint.semantics.param_count import ParameterCount
from peftlint.spec import AdapterSpec, SourceKind

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved, Unresolved

    Resolution = Union[Resolved, Unresolved]
    _LogBase = dict[tuple[str, str | None, str | None, tuple[str, ...]], Resolution]
else:
    _LogBase = dict

RESULT_PREFIX = "result-"
SCHEMA = 3  # 2: resolutions record the subfolder; 3: findings carry their notes apart from the message
MAX_ENTRIES = 20_000
MAX_BYTES = 256 * 1024 * 1024
REFRESH_AFTER = 24 * 3600  # seconds: how stale an entry's timestamp may get before a hit renews it
# Libraries whose behaviour decides findings: model trees, peft's facts, the readers, weights headers.
DISTRIBUTIONS = ("torch", "transformers", "peft", "huggingface_hub", "safetensors", "libcst", "PyYAML")
# Settings that choose files or the cache, not what a file's findings are.
NOT_FINDINGS = ("cache_dir", "no_cache", "exclude", "extend_exclude", "force_exclude", "output_format", "config_file")
SMALL_FILE = 1024 * 1024  # dependencies up to this size are hashed whole; larger ones by stat + head


def file_fingerprint(path: str) -> str | None:
    """What a dependency looked like: None when absent; a small file's hash; a large file's size,
    modification time, inode and the hash of its first 64 KiB (a safetensors header lives there)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"mode:{stat.S_IFMT(st.st_mode)}"
    try:
        with open(path, "rb") as fh:
            if st.st_size <= SMALL_FILE:
                return "sha256:" + hashlib.sha256(fh.read()).hexdigest()
            head = hashlib.sha256(fh.read(65536)).hexdigest()
    except OSError:
        return None
    return f"stat:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{head}"


def weight_files(specs: list[AdapterSpec]) -> list[str]:
    """A saved adapter's findings depend on the weight files in its folder (present or not)."""
    from peftlint.sources.adapter_weights import PICKLES, SAFETENSORS

    dirs = sorted({spec.adapter_dir for spec in specs if spec.adapter_dir})
    return [str(Path(d) / name) for d in dirs for name in (SAFETENSORS, *PICKLES)]


# Model references resolved in a run: (ref, subfolder, revision, base_dirs).
ResolutionKey = tuple[str, str | None, str | None, tuple[str, ...]]


@dataclass
class SpecSummary:
    """The identity of a cached outcome's spec; its values exist only in the run that linted the file."""

    path: str
    source: SourceKind
    config_class: str
    method: str
    task_type: str | None
    adapter_dir: str | None
    abspath: str
    span: list[int]  # line, column, end_line, end_column


@dataclass
class OutcomeSummary:
    """What a cached outcome (engine.results.SpecOutcome) keeps: the spec's identity and every plain
    field (model, how, skipped, ...); its context and the inventory exist only in the run that linted
    the file. The field names after ``spec`` are SpecOutcome's, in its order."""

    spec: SpecSummary
    model: str | None = None
    how: str = ""
    ref: str | None = None
    from_default: bool = False
    skipped: str | None = None
    model_note: str = ""
    parameters: ParameterCount | None = None


class ResolutionRecord(NamedTuple):
    """A resolved reference as the result cache stores it (a JSON array)."""

    ref: str
    subfolder: str | None
    revision: str | None
    base_dirs: list[str]
    location: str | None
    probes: str  # probe_digest of what the resolution looked at
    fingerprint: str  # resolution_fingerprint of what it found


_SUMMARY_SPEC = tuple(f.name for f in fields(SpecSummary) if f.name != "span")
_SUMMARY_FIELDS = tuple(f.name for f in fields(OutcomeSummary) if f.name != "spec")


def outcome_summary(outcome: SpecOutcome) -> OutcomeSummary | None:
    """A SpecOutcome's summary, or None when one of its fields has no plain JSON form."""
    span = outcome.spec.span
    spec = SpecSummary(**{k: getattr(outcome.spec, k) for k in _SUMMARY_SPEC},
                       span=[span.line, span.column, span.end_line, span.end_column])
    out = OutcomeSummary(spec)
    for name in _SUMMARY_FIELDS:
        value = getattr(outcome, name)
        plain = asdict(value) if isinstance(value, ParameterCount) else value
        try:
            if json.loads(json.dumps(plain)) != plain:
                return None
        except (TypeError, ValueError):
            return None
        setattr(out, name, value)
    return out


def outcome_from_summary(data: OutcomeSummary) -> SpecOutcome:
    """The inverse of :func:`outcome_summary`; raises TypeError/ValueError on malformed data."""
    s = data.spec
    spec = AdapterSpec(span=Span(*s.span), **{k: getattr(s, k) for k in _SUMMARY_SPEC})
    return SpecOutcome(spec, **{k: getattr(data, k) for k in _SUMMARY_FIELDS})


def resolution_fingerprint(res: Resolution) -> str:
    """What a resolution found, in the terms findings depend on."""
    from peftlint.model.resolve import Resolved

    if isinstance(res, Resolved):
        return store.digest({
            "label": res.label,
            # a config downloaded by --online is read from the Hugging Face cache the next time
            "source": "hf-cache" if res.source == "online" else res.source,
            "location": res.location,
            "revision": res.revision,
            "config": hashlib.sha256(res.config_text.encode("utf-8")).hexdigest(),
            "remote": [res.needs_remote_code, res.has_auto_map],
        })
    return store.digest({"unresolved": getattr(res, "reason", repr(res))})


def _location(res: Resolution) -> str | None:
    return getattr(res, "location", None)


class ResolutionLog(_LogBase):
    """The run's memo of resolved model references (``load_inventory``'s ``resolved_memo``, keyed by
    ``(ref, subfolder, revision, base_dirs)``) that also notes which references each file's findings used and,
    with ``recording``, the probes of each resolution taken right after it was made."""

    def __init__(self, settings: Settings, recording: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.recording = recording
        self.probes: dict[ResolutionKey, str] = {}
        self.touched: set[ResolutionKey] = set()
        self._checked: dict[tuple[ResolutionKey, str | None, str, str], bool] = {}

    def __setitem__(self, key: ResolutionKey, value: Resolution) -> None:
        super().__setitem__(key, value)
        if self.recording:
            self.probes[key] = self._probe(key, _location(value))

    def __getitem__(self, key: ResolutionKey) -> Resolution:
        self.touched.add(key)
        return super().__getitem__(key)

    def _probe(self, key: ResolutionKey, location: str | None) -> str:
        from peftlint.model.resolve import resolve_options
        from peftlint.model.resolve_cache import probe_digest

        ref, subfolder, revision, base_dirs = key
        return probe_digest(ref, revision, base_dirs, resolve_options(self.settings), subfolder, location)

    def records(self, keys: set[ResolutionKey]) -> list[ResolutionRecord] | None:
        """The records of ``keys`` (None when one of them has no probe: then nothing is stored)."""
        out = []
        for key in sorted(keys, key=repr):
            if key not in self.probes:
                return None
            res = dict.__getitem__(self, key)
            ref, subfolder, revision, base_dirs = key
            out.append(ResolutionRecord(ref, subfolder, revision, list(base_dirs), _location(res), self.probes[key],
                                        resolution_fingerprint(res)))
        return out

    def still_valid(self, record: ResolutionRecord) -> bool:
        """Whether a stored record still describes what resolving its reference gives now."""
        ref, subfolder, revision, base_dirs, location, probes, fingerprint = record
        key: ResolutionKey = (ref, subfolder, revision, tuple(base_dirs))
        if dict.__contains__(self, key):  # resolved earlier in this run
            return resolution_fingerprint(dict.__getitem__(self, key)) == fingerprint
        memo = (key, location, probes, fingerprint)
        if memo not in self._checked:
            unresolved_online = self.settings.online and location is None  # a download is retried
            same = not unresolved_online and self._probe(key, location) == probes
            if not same:
                from peftlint.model.resolve_cache import resolve_memo

                res = resolve_memo(ref, self.settings, revision=revision, base_dirs=base_dirs, memo=self,
                                   subfolder=subfolder, cache_dir=self.settings.cache_directory())
                self.touched.discard(key)
                same = resolution_fingerprint(res) == fingerprint
            self._checked[memo] = same
        return self._checked[memo]


@dataclass
class CachedFile:
    """What one file contributed to a run, as stored."""

    files: int = 1
    diagnostics: list[Diagnostic] = field(default_factory=list)
    outcomes: list[OutcomeSummary] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)


class ResultCache:
    def __init__(self, directory: Path, settings: Settings, cwd: Path, *, refresh: bool = False) -> None:
        """``refresh``: never reuse an entry, but store what this run finds (``--no-result-cache``)."""
        self.directory = Path(directory)
        self.settings = settings
        self.cwd = cwd
        self.refresh = refresh
        self._base: str | None = None
        self.hits = 0
        self.written = 0

    # -- keys ----------------------------------------------------------------------------------
    def base(self) -> str:
        """The part of every entry's name that is fixed for this run."""
        if self._base is None:
            settings = {k: v for k, v in asdict(self.settings).items() if k not in NOT_FINDINGS}
            self._base = store.digest({
                "schema": SCHEMA,
                "python": [sys.implementation.name, list(sys.version_info[:3])],
                "peftlint": __version__,
                "source": store.package_digest(),
                "versions": store.package_versions(*DISTRIBUTIONS),
                "settings": settings,
                "cwd": str(self.cwd),
            })
        return self._base

    def entry_key(self, path: Path, display: str, kind: str, explicit: bool) -> str:
        return store.digest({"base": self.base(), "file": str(path), "display": display, "kind": kind,
                             "explicit": explicit})

    def _path(self, key: str) -> Path:
        return self.directory / f"{RESULT_PREFIX}{key}.json"

    # -- reading -------------------------------------------------------------------------------
    def lookup(self, key: str, content: str, log: ResolutionLog) -> CachedFile | None:
        """The entry under ``key`` if it was stored for a file whose sha256 is ``content`` and
        nothing it depends on changed."""
        if self.refresh:
            return None
        path = self._path(key)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        payload = store.read_entry(path, key)
        try:
            hit = self._validate(payload, content, log)
        except (KeyError, TypeError, ValueError, AttributeError):
            hit = None
        if hit is None:
            return None
        if time.time() - mtime > REFRESH_AFTER:
            try:
                os.utime(path)
            except OSError:
                pass
        self.hits += 1
        return hit

    def _validate(self, payload: object, content: str, log: ResolutionLog) -> CachedFile | None:
        if not isinstance(payload, dict) or payload.get("schema") != SCHEMA:
            return None
        if payload["content"] != content:
            return None
        deps = payload["dependencies"]
        if not isinstance(deps, dict) or any(file_fingerprint(p) != fp for p, fp in deps.items()):
            return None
        records = payload["resolutions"]
        if not isinstance(records, list) or not all(isinstance(r, list) and len(r) == 7 for r in records):
            return None
        if not all(log.still_valid(ResolutionRecord(*r)) for r in records):
            return None
        outcomes, verdicts, files = payload["outcomes"], payload["verdicts"], payload["files"]
        if not (isinstance(outcomes, list) and all(isinstance(o, dict) for o in outcomes)):
            return None
        summaries = [typedjson.load(OutcomeSummary, o, "outcome") for o in outcomes]  # ShapeError: a ValueError
        if not (isinstance(verdicts, list) and all(isinstance(v, str) for v in verdicts)) or type(files) is not int:
            return None
        return CachedFile(files, [Diagnostic.from_json(d) for d in payload["diagnostics"]], summaries, verdicts)

    # -- writing -------------------------------------------------------------------------------
    def store(self, key: str, content: str, out: CachedFile, dependencies: list[str],
              resolutions: list[ResolutionRecord]) -> bool:
        payload = {
            "schema": SCHEMA,
            "content": content,  # sha256 of the file's bytes
            "dependencies": {p: file_fingerprint(p) for p in sorted(set(dependencies))},
            "resolutions": resolutions,
            "files": out.files,
            "diagnostics": [d.to_json(cache=True) for d in out.diagnostics],
            "outcomes": [asdict(o) for o in out.outcomes],
            "verdicts": out.verdicts,
        }
        ok = store.write_entry(self._path(key), key, payload)
        self.written += ok
        return ok


def evict(directory: Path | None, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> int:
    """Remove the least recently used result entries when there are more than ``max_entries`` or they
    take more than ``max_bytes``; returns how many were removed. Safe while other runs read or write."""
    if directory is None:
        return 0
    entries = []
    try:
        with os.scandir(directory) as it:
            for e in it:
                if e.name.startswith(RESULT_PREFIX) and e.name.endswith(".json"):
                    try:
                        st = e.stat()
                    except OSError:
                        continue
                    entries.append((st.st_mtime, st.st_size, e.path))
    except OSError:
        return 0
    total = sum(size for _, size, _ in entries)
    if len(entries) <= max_entries and total <= max_bytes:
        return 0
    entries.sort()
    keep_n, keep_bytes = int(max_entries * 0.8), int(max_bytes * 0.8)
    removed = 0
    count = len(entries)
    for _, size, path in entries:
        if count <= keep_n and total <= keep_bytes:
            break
        try:
            os.unlink(path)
            removed += 1
        except OSError:
            pass  # another run removed it, or it is in use on Windows
        count -= 1
        total -= size
    return removed
