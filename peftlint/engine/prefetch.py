"""Reading Python files and notebooks ahead while a cold run imports peft.

A run with no cached peft facts first imports peft (and with it torch and transformers): seconds in
which one core does nothing else. Reading a source (parse, index, find the config calls, link their
models) needs no peft but the names of its config classes, so a forked process reads the files
meanwhile with a *provisional* name set: every ``...Config`` identifier the file's own text holds,
plus ``LoraConfig`` (what unsloth's ``get_peft_model`` builds). A real class name is matched the same
way under both sets (it occurs in the text, or nothing can call it), so when the read-ahead found no
config of a class peft does not have, and no problem, its result is exactly what reading the file
now would give. Otherwise (a ``PromptTuningConfig`` call, whose class selects no modules; a parse
failure) the file is read again in the run.

Linux only (``fork``, as for the workers): a spawned process would pay the imports this saves, and
fork is unsafe on macOS.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Sequence

from peftlint.engine import discover as disc
from peftlint.engine.reading import read_source
from peftlint.sources import SourceResult

if TYPE_CHECKING:  # imported when a read-ahead starts: a run that needs none never pays for them
    from concurrent.futures import Future, ProcessPoolExecutor

KINDS = (disc.PYTHON, disc.NOTEBOOK)
MIN_FILES = 8  # fewer files read in a fraction of the import: not worth a process
BATCH = 4  # files per task: when the import ends first, the run waits for one batch at most
_CONFIG_NAME = re.compile(r"\b[A-Za-z_]\w*Config\b")


@dataclass
class ReadAhead:
    """A file read and parsed by a worker before the linter asked for it."""

    sha256: str  # of the bytes that were read
    source: SourceResult


@dataclass
class Reading:
    """The workers reading files ahead and the batches they were given."""

    pool: ProcessPoolExecutor
    batches: list[Future]


def start(cands: list[disc.Candidate], cwd: Path, max_file_size: int) -> Reading | None:
    """Start reading ``cands``' Python files and notebooks in a forked process; None when not worth it."""
    items = [(str(c.path), c.kind, disc.candidate_display_path(c, cwd)) for c in cands if c.kind in KINDS]
    if len(items) < MIN_FILES or not sys.platform.startswith("linux"):
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    return Reading(pool, [pool.submit(read_all, items[i:i + BATCH], max_file_size)
                          for i in range(0, len(items), BATCH)])


def provisional_names(text: str) -> frozenset[str]:
    return frozenset(_CONFIG_NAME.findall(text)) | {"LoraConfig"}


def read_all(items: Sequence[tuple[str, str, str]], max_file_size: int) -> dict[str, ReadAhead]:
    """path -> what its reader found, for the files that may hold a config."""
    from peftlint.sources.notebook import extract_notebook
    from peftlint.sources.python import extract_python

    out: dict[str, ReadAhead] = {}
    for path, kind, display in items:
        read = read_source(Path(path), max_file_size, kind)
        if read is None:  # reported when the run reads it
            continue
        data, text = read
        names = provisional_names(text)
        if not disc.passes_prefilter(kind, text, lambda: names):
            continue
        extract = extract_python if kind == disc.PYTHON else extract_notebook
        try:
            source = extract(text, display, path, names)
        except Exception:  # the run reads it again and reports what went wrong
            continue
        out[path] = ReadAhead(hashlib.sha256(data).hexdigest(), source)
    return out


def usable(reading: Reading, config_classes: Collection[str]) -> dict[str, ReadAhead]:
    """The read-ahead results equal to what reading the files with peft's real class names gives.

    Takes the batches read so far (a huge tree may take longer to read than peft to import), lets
    the one being read finish and drops the rest: the run reads those files itself, in parallel.
    """
    for batch in reading.batches:
        batch.cancel()  # the batches not started yet
    found: dict[str, ReadAhead] = {}
    for batch in reading.batches:
        try:
            found.update(batch.result())
        except Exception:  # a dropped batch (CancelledError), or the process died
            continue
    reading.pool.shutdown(wait=True)
    return {path: ahead for path, ahead in found.items()
            if not ahead.source.problems and all(s.config_class in config_classes for s in ahead.source.specs)}
