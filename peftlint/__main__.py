"""``python -m peftlint`` and the ``peftlint`` command."""

import gc


def run() -> None:
    # A lint run is one short process that allocates in bursts (imports, a syntax tree per file) and
    # leaves little cyclic garbage; the collector's repeated passes over everything imported cost
    # about a tenth of a short run. It is off here; the engine collects once per linted file
    # instead (``Linter.lint_paths``), which frees each file's cycles.
    gc.disable()
    from peftlint.cli import main

    main()


if __name__ == "__main__":
    run()
