"""discover: which files to lint, and a cheap text prefilter before any parsing (TorchFix style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pathspec

from peftlint.reading import read_limited

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".env", "__pycache__", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".peftlint_cache", "node_modules", "site-packages", ".eggs",
    ".ipynb_checkpoints", "build", "dist", "wandb",
)

# Which file kinds a source reader handles; later issues add more.
PYTHON = "python"
ADAPTER_CONFIG = "adapter_config"
NOTEBOOK = "notebook"
YAML = "yaml"
SHELL = "shell"  # trainer command lines in shell scripts (TRL / LLaMA-Factory flags)

# A saved adapter's weight files: naming one on the command line lints its folder's adapter_config.json
# (the weights are checked from there; pickles are never opened).
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
ORPHAN_WEIGHTS = "orphan_weights"  # adapter weights with no adapter_config.json beside them

# Substrings at least one of which a file must contain to be worth parsing.
PREFILTER = {
    PYTHON: ("peft", "target_modules", "get_peft_model"),
    NOTEBOOK: ("peft", "target_modules"),
    YAML: ("lora", "adapter", "target"),
    SHELL: ("--lora_target", "--use_peft"),
    ADAPTER_CONFIG: ("",),
}


@dataclass(frozen=True)
class Candidate:
    path: Path  # as found (absolute)
    kind: str
    explicit: bool  # named on the command line


def file_kind(path: Path, explicit: bool = False) -> str | None:
    name = path.name
    if name in ADAPTER_WEIGHTS:
        return None if (path.parent / "adapter_config.json").is_file() else ORPHAN_WEIGHTS
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


def passes_prefilter(kind: str, text: str) -> bool:
    return any(s in text for s in PREFILTER.get(kind, ("",)))


class Walker:
    def __init__(self, excludes: Iterable[str] = (), root: Path | None = None) -> None:
        self.root = (root or Path.cwd()).resolve()
        self.user_excludes = pathspec.GitIgnoreSpec.from_lines(list(excludes))
        self._ignores: dict[Path, pathspec.PathSpec | None] = {}

    def _gitignore(self, d: Path) -> pathspec.PathSpec | None:
        if d not in self._ignores:
            gi = d / ".gitignore"
            spec = None
            if gi.is_file():
                try:
                    text = read_limited(gi).decode("utf-8", errors="replace")
                    spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
                except Exception:  # a malformed, huge or unreadable .gitignore must not stop the run
                    spec = None
            self._ignores[d] = spec
        return self._ignores[d]

    def _ignored(self, path: Path, is_dir: bool, anchors: list[Path]) -> bool:
        rel_root = _rel(path, self.root)
        probe = rel_root + ("/" if is_dir else "")
        if rel_root is not None and self.user_excludes.match_file(probe):
            return True
        for d in anchors:
            spec = self._gitignore(d)
            if spec is not None and spec.match_file(_rel(path, d) + ("/" if is_dir else "")):
                return True
        return False

    def _ignored_above(self, top: Path, anchors: list[Path]) -> bool:
        for a in anchors:
            spec = self._gitignore(a) if a != top else None
            if spec is not None and spec.match_file(_rel(top, a) + "/"):
                return True
        return False

    def walk(self, paths: Iterable[Path]) -> Iterator[Candidate]:
        seen: set[Path] = set()
        for given in paths:
            p = given.resolve() if given.exists() else given.absolute()
            if given.is_symlink() and not p.is_dir():
                p = _unresolved_link(given)  # a named link is linted as the link, never written through
            if p.is_dir():
                yield from self._walk_dir(p, seen)
            else:
                if p.name in ADAPTER_WEIGHTS and (p.parent / "adapter_config.json").is_file():
                    p = p.parent / "adapter_config.json"
                kind = file_kind(p, explicit=True) or PYTHON
                if p not in seen:
                    seen.add(p)
                    yield Candidate(p, kind, True)

    def _walk_dir(self, top: Path, seen: set[Path]) -> Iterator[Candidate]:
        anchors_for: dict[Path, list[Path]] = {}
        base_anchors = [a for a in [top, *top.parents] if (a / ".gitignore").is_file() and _inside_repo(a, top)]
        if self._ignored_above(top, base_anchors):
            # a directory named on the command line (a gitignored `outputs/checkpoint-500`) is linted,
            # like a file named there; .gitignore files inside it still apply
            base_anchors = [a for a in base_anchors if a == top]
        for dirpath, dirnames, filenames in os.walk(top):
            d = Path(dirpath)
            anchors = anchors_for.get(d)
            if anchors is None:
                anchors = list(base_anchors)
            if (d / ".gitignore").is_file() and d not in anchors:
                anchors = anchors + [d]
            keep = []
            for name in sorted(dirnames):
                sub = d / name
                if name in DEFAULT_EXCLUDES or self._ignored(sub, True, anchors):
                    continue
                anchors_for[sub] = anchors
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                f = d / name
                kind = file_kind(f)
                if kind is None or f in seen or self._ignored(f, False, anchors):
                    continue
                if f.is_symlink():
                    # a link to a file inside the tree is linted (and fixed) as that file, once; a
                    # link out of the tree is linted under its own name and never written through
                    try:
                        target = f.resolve()
                    except (OSError, RuntimeError):  # a symlink loop
                        target = f
                    if target != f and (target == top or top in target.parents):
                        if target in seen or target.is_dir():
                            continue
                        f = target
                seen.add(f)
                yield Candidate(f, kind, False)


def _inside_repo(anchor: Path, top: Path) -> bool:
    """A .gitignore above the walked directory applies only within the same git work tree."""
    if anchor == top:
        return True
    for d in [top, *top.parents]:
        if (d / ".git").exists():
            return anchor == d or d in anchor.parents
    return False


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


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
