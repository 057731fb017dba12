"""``python -m peftlint`` and the ``peftlint`` command."""

import gc
import os
import sys

# Modules whose import means the run started processes or threads that Python's own exit cleans up.
_NEEDS_CLEAN_EXIT = ("multiprocessing", "concurrent.futures.thread", "torch", "huggingface_hub.file_download")


def run() -> None:
    # A lint run is one short process that allocates in bursts (imports, a syntax tree per file) and
    # leaves little cyclic garbage; the collector's repeated passes over everything imported cost
    # about a tenth of a short run. It is off here; the engine collects once per linted file
    # instead (``Linter.lint_paths``), which frees each file's cycles.
    gc.disable()
    from peftlint.cli import main

    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if any(m in sys.modules for m in _NEEDS_CLEAN_EXIT):
        raise SystemExit(code)
    # Nothing is left to clean up (output is written, cache entries are renamed into place), and
    # tearing down every module and object costs a short run about as much as its rules: leave now.
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`peftlint . | head`): the output went as far as it could
        pass
    os._exit(code or 0)


if __name__ == "__main__":
    run()
