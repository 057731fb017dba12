"""``peftlint server`` that writes, when it exits, which of torch, transformers and peft the process
imported (to the file named by its first argument)."""

import atexit
import sys

OUT = sys.argv.pop(1)
HEAVY = ("torch", "transformers", "peft")


def _record() -> None:
    with open(OUT, "w", encoding="utf-8") as fh:
        fh.write(" ".join(m for m in HEAVY if m in sys.modules))


atexit.register(_record)

from peftlint.server import run  # noqa: E402

run()
