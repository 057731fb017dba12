"""``peftlint server`` that writes, when it exits, which of pygls, torch, transformers and peft the
process imported (to the file named by its first argument; pygls, which every session imports, shows
that the record sees the server's imports).

The server's worker process is spawned: it imports this script again, as ``__mp_main__``, and must
neither record nor serve (what it imports is not the server's)."""

import atexit
import sys

RECORDED = ("pygls", "torch", "transformers", "peft")


def _record(out: str) -> None:
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(" ".join(m for m in RECORDED if m in sys.modules))


if __name__ == "__main__":
    atexit.register(_record, sys.argv.pop(1))

    from peftlint.server import run

    run()
