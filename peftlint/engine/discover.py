"""discover: which files to lint, and a cheap text prefilter before any parsing (TorchFix style)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Collection, Iterable, Iterator

from peftlint.config import CONFIG_NAMES
from peftlint.reading import read_limited
from peftlint.strenum import StrEnum

if TYPE_CHECKING:
    import pathspec

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".peftlint_cache", "node_modules", "site-packages", ".eggs",
    ".ipynb_checkpoints", "build", "dist", "wandb",
)


class FileKind(StrEnum):
    """Which reader handles a file (``Candidate.kind``)."""

    PYTHON = "python"
    ADAPTER_CONFIG = "adapter_config"
    NOTEBOOK = "notebook"
    YAML = "yaml"
    SHELL = "shell"  # trainer command lines in shell scripts (TRL / LLaMA-Factory flags)
    ORPHAN_WEIGHTS = "orphan_weights"  # adapter weights with no adapter_config.json beside them
    DIFFUSERS_LORA = "diffusers_lora"  # diffusers' save_lora_weights: every component's LoRA, no config


PYTHON, ADAPTER_CONFIG, NOTEBOOK, YAML, SHELL = (FileKind.PYTHON, FileKind.ADAPTER_CONFIG, FileKind.NOTEBOOK,
                                                FileKind.YAML, FileKind.SHELL)
ORPHAN_WEIGHTS, DIFFUSERS_LORA = FileKind.ORPHAN_WEIGHTS, FileKind.DIFFUSERS_LORA

# A saved adapter's weight files: naming one on the command line lints its folder's adapter_config.json
# (the weights are checked from there; pickles are never opened).
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
DIFFUSERS_LORA_WEIGHTS = ("pytorch_lora_weights.safetensors", "pytorch_lora_weights.bin")

# Substrings at least one of which a file must contain to be worth parsing. Python files and
# notebooks are checked by ``passes_prefilter`` instead.
PREFILTER: dict[str, tuple[str, ...]] = {
    YAML: ("lora", "adapter", "target"),
    SHELL: ("--lora_target", "--use_peft", "llamafactory-cli", "lmf ", "--finetuning_type", "--lora_rank"),
    ADAPTER_CONFIG: ("",),
}
# Python and notebooks: the file mentions peft or unsloth (an import, a qualified call) and calls a
# PEFT config class (by name, any import form) or ``get_peft_model`` (unsloth's FastLanguageModel).
LIBRARIES = ("peft", "unsloth")
CALLS = ("get_peft_model",)


@dataclass(frozen=True)
class Candidate:
    """A file the walk found that one of the readers may lint."""

    path: Path  # as found (absolute)
    kind: FileKind
    explicit: bool  # named on the command line


def file_kind(path: Path, explicit: bool = False) -> FileKind | None:
    return _kind(path.name, lambda: (path.parent / "adapter_config.json").is_file(), explicit)


def _kind(name: str, config_beside: Callable[[], bool], explicit: bool = False) -> FileKind | None:
    if name in DIFFUSERS_LORA_WEIGHTS:
        return DIFFUSERS_LORA
    if name in ADAPTER_WEIGHTS:
        return None if config_beside() else ORPHAN_WEIGHTS
    if name.endswith(".py") or name.endswith(".pyi"):
        return PYTHON
    if name == "adapter_config.json":
        return ADAPTER_CONFIG
    if name.endswith(".ipynb"):
        return NOTEBOOK
    if name.endswith((".yaml", ".yml")):
        return YAML
    if name.endswith(".sh"):
        return SHELL
    if explicit and name.endswith(".json"):
        return ADAPTER_CONFIG
    return None


def passes_prefilter(kind: str, text: str, config_classes: Callable[[], Collection[str]] = frozenset) -> bool:
    """Whether ``text`` can hold a PEFT config of a reader of ``kind``: a substring test, no parsing.

    ``config_classes`` gives the names of peft's config classes (called only when needed: it reads
    peft's cached facts).
    """
    if kind not in (PYTHON, NOTEBOOK):
        return any(s in text for s in PREFILTER.get(kind, ("",)))
    for lib in LIBRARIES:
        if lib in text:
            break
    else:
        return False
    for call in CALLS:
        if call in text:
            return True
    return _names_a_class(text, config_classes())


def _names_a_class(text: str, names: Collection[str]) -> bool:
    """Whether one of ``names`` occurs in ``text``. Config class names all end in "Config": one scan
    for that suffix and a set lookup of the few lengths of text before it is much faster than a
    search per name (a name preceded by more identifier characters, ``MyLoraConfig``, counts)."""
    suffix = "Config"
    if not names or not all(n.endswith(suffix) and n != suffix for n in names):
        return any(n in text for n in names)
    stems = tuple({n[: -len(suffix)] for n in names})
    longest = max(map(len, stems))
    i = text.find(suffix)
    while i != -1:
        if text[max(0, i - longest):i].endswith(stems):
            return True
        i = text.find(suffix, i + len(suffix))
    return False


class Walker:
    """The files to lint under the given paths, in a stable order. Directories are walked with
    plain strings (a Path per entry costs more than the rest of a warm run's walk)."""

    def __init__(self, excludes: Iterable[str] = (), root: Path | None = None, *, force_exclude: bool = False) -> None:
        """``force_exclude``: the excludes apply to files and directories named on the command line
        too (ruff's ``force-exclude``; pre-commit always names files)."""
        self.root = (root or Path.cwd()).resolve()
        self.force_exclude = force_exclude
        self._root = str(self.root)
        excludes = list(excludes)
        self.user_excludes = _gitignore_spec(excludes) if excludes else None
        self._ignores: dict[str, pathspec.PathSpec | None] = {}
        # every walked directory -> the configuration file names it holds (config.CONFIG_NAMES), so
        # finding each file's configuration needs no stat of a walked directory
        self.config_names: dict[str, tuple[str, ...]] = {}

    def _gitignore(self, d: str) -> pathspec.PathSpec | None:
        if d not in self._ignores:
            spec = None
            try:
                text = read_limited(os.path.join(d, ".gitignore")).decode("utf-8", errors="replace")
                spec = _gitignore_spec(text.splitlines())
            except Exception:  # absent, malformed, huge or unreadable: it must not stop the run
                spec = None
            self._ignores[d] = spec
        return self._ignores[d]

    def _ignored(self, path: str, is_dir: bool, anchors: list[str]) -> bool:
        tail = "/" if is_dir else ""
        if self.user_excludes is not None and self.user_excludes.match_file(_rel(path, self._root) + tail):
            return True
        for d in anchors:
            spec = self._gitignore(d)
            if spec is not None and spec.match_file(_rel(path, d) + tail):
                return True
        return False

    def force_excluded(self, path: Path) -> bool:
        """A named path inside the root that the excludes (or the default excludes, ``.venv``, ...)
        name, itself or through one of its directories."""
        rel = _rel(str(path), self._root)
        if rel == "." or os.path.isabs(rel) or rel.startswith("../"):
            return False
        parts = rel.split("/")
        if any(part in DEFAULT_EXCLUDES for part in parts[:-1] if part) or (path.is_dir() and parts[-1] in DEFAULT_EXCLUDES):
            return True
        return self.user_excludes is not None and self.user_excludes.match_file(rel + ("/" if path.is_dir() else ""))

    def _ignored_above(self, top: str, anchors: list[str]) -> bool:
        for a in anchors:
            spec = self._gitignore(a) if a != top else None
            if spec is not None and spec.match_file(_rel(top, a) + "/"):
                return True
        return False

    def walk(self, paths: Iterable[Path]) -> Iterator[Candidate]:
        seen: set[str] = set()
        for given in paths:
            p = given.resolve() if given.exists() else given.absolute()
            plain = Path(os.path.normpath(given.absolute()))
            if p != plain and given.exists():
                # a path through a link (``dirlink/ext.py``, a named link) is linted under the name it
                # was given: --fix sees the link in it and never writes through it out of the tree
                p = plain
            if self.force_exclude and self.force_excluded(p):
                continue
            if p.is_dir():
                yield from self._walk_dir(p, seen)
            else:
                if p.name in ADAPTER_WEIGHTS and (p.parent / "adapter_config.json").is_file():
                    p = p.parent / "adapter_config.json"
                kind = file_kind(p, explicit=True) or PYTHON
                if str(p) not in seen:
                    seen.add(str(p))
                    yield Candidate(p, kind, True)

    def _walk_dir(self, top: Path, seen: set[str]) -> Iterator[Candidate]:
        top_s = str(top)
        base_anchors = [str(a) for a in [top, *top.parents] if (a / ".gitignore").is_file() and _inside_repo(a, top)]
        if self._ignored_above(top_s, base_anchors):
            # a directory named on the command line (a gitignored `outputs/checkpoint-500`) is linted,
            # like a file named there; .gitignore files inside it still apply
            base_anchors = [a for a in base_anchors if a == top_s]
        anchors_for: dict[str, list[str]] = {}
        for dirpath, dirnames, filenames in os.walk(top_s):
            anchors = anchors_for.get(dirpath)
            if anchors is None:
                anchors = list(base_anchors)
            self.config_names[dirpath] = tuple(n for n in CONFIG_NAMES if n in filenames) if (
                "pyproject.toml" in filenames or "peftlint.toml" in filenames or ".peftlint.toml" in filenames) else ()
            if ".gitignore" in filenames and dirpath not in anchors:
                anchors = anchors + [dirpath]
            keep = []
            for name in sorted(dirnames):
                sub = os.path.join(dirpath, name)
                if name in DEFAULT_EXCLUDES or self._ignored(sub, True, anchors):
                    continue
                anchors_for[sub] = anchors
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                kind = _kind(name, lambda: os.path.isfile(os.path.join(dirpath, "adapter_config.json")))
                if kind is None:
                    continue
                f = os.path.join(dirpath, name)
                if f in seen or self._ignored(f, False, anchors):
                    continue
                if os.path.islink(f):
                    # a link to a file inside the tree is linted (and fixed) as that file, once; a
                    # link out of the tree is linted under its own name and never written through
                    try:
                        target = str(Path(f).resolve())
                    except (OSError, RuntimeError):  # a symlink loop
                        target = f
                    if target != f and (target == top_s or target.startswith(top_s.rstrip(os.sep) + os.sep)):
                        if target in seen or os.path.isdir(target):
                            continue
                        f = target
                seen.add(f)
                yield Candidate(Path(f), kind, False)


# pathspec turns each ``*`` into a backtracking ``[^/]*``: ``*a*a*a*a*a*a*a*a*a*a*b`` against a long
# file name of a's takes hours. Lines with more single-star wildcards than this (``**`` is not
# counted) or longer than MAX_PATTERN_LENGTH are skipped: the files they would hide are linted.
MAX_PATTERN_STARS = 2
MAX_PATTERN_LENGTH = 1000


def _bounded_pattern(line: str) -> bool:
    return len(line) <= MAX_PATTERN_LENGTH and line.replace("**", "").count("*") <= MAX_PATTERN_STARS


def _gitignore_spec(lines: list[str]) -> pathspec.PathSpec:
    """The patterns of ``lines``; one that is unbounded or does not compile (``[z-a]``, which git
    treats as matching nothing) is left out, the others still apply."""
    import pathspec  # only when there is something to match: a run on named files never needs it

    good = [line for line in lines if _bounded_pattern(line)]
    try:
        return pathspec.GitIgnoreSpec.from_lines(good)
    except Exception:  # noqa: BLE001 - re.error, pathspec's GitWildMatchPatternError, ...
        return pathspec.GitIgnoreSpec.from_lines([line for line in good if pattern_problem(line) is None])


def pattern_problem(pattern: str) -> str | None:
    """Why an exclude or .gitignore pattern does not compile (``bad character range z-a``), or None."""
    import pathspec

    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except Exception as exc:  # noqa: BLE001 - re.error, pathspec's GitWildMatchPatternError, ...
        return re.sub(r" at position \d+", "", str(exc)) or type(exc).__name__  # a position in the regex, not the pattern
    return None


def _inside_repo(anchor: Path, top: Path) -> bool:
    """A .gitignore above the walked directory applies only within the same git work tree."""
    if anchor == top:
        return True
    for d in [top, *top.parents]:
        if (d / ".git").exists():
            return anchor == d or d in anchor.parents
    return False


def _rel(path: str, base: str) -> str:
    """``path`` relative to ``base``, '/'-separated; the absolute path when it is not inside."""
    if path == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if path.startswith(prefix):
        rel = path[len(prefix):]
        return rel.replace(os.sep, "/") if os.sep != "/" else rel
    return Path(path).as_posix()


def _unresolved_link(path: Path) -> Path:
    """``path`` with its directories resolved but its last component kept when it is a symlink."""
    return path.absolute().parent.resolve() / path.name


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Paths in output: relative to the current directory when inside it, '/'-separated. A symlinked
    file keeps its own name (the finding is about the link, which --fix never writes through)."""
    cwd = (cwd or Path.cwd()).resolve()
    real = _unresolved_link(path) if path.is_symlink() else path.resolve()
    try:
        return real.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(real, cwd).replace(os.sep, "/") if os.name != "nt" else path.as_posix()


def candidate_display_path(cand: Candidate, cwd: Path) -> str:
    """:func:`display_path` of a walked file for a resolved ``cwd``, without resolving every path
    component again: the walker's directories are already resolved, only the file may be a link."""
    s = str(cand.path)
    if not os.path.islink(s):
        rel = _rel(s, str(cwd))
        if rel != "." and not os.path.isabs(rel) and not rel.startswith("../"):
            return rel
    return display_path(cand.path, cwd)
