"""Which rule selectors exist: a code (``PFT101``), a prefix of codes (``PFT1``) or ``ALL``.

The codes come from the rule files' names (``pftNNN_*.py``, one rule per file), so checking a
selection imports no rule. A selector that names no rule is a typo that would silently turn checks
off; the command line rejects it (exit 2) and ``# noqa`` reports it (PFT905), naming the nearest
real one.
"""

from __future__ import annotations

import pkgutil
import re
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_FILE = re.compile(r"pft(\d{3})_")


@lru_cache(maxsize=1)
def known_codes() -> tuple[str, ...]:
    """Every rule code, from the families' file names (see ``peftlint.rules.FAMILIES``)."""
    from peftlint.rules import FAMILIES

    codes = set()
    for family in FAMILIES:
        for info in pkgutil.iter_modules([str(_HERE / family)]):
            m = _FILE.match(info.name)
            if m:
                codes.add(f"PFT{m.group(1)}")
    return tuple(sorted(codes))


def is_known(selector: str) -> bool:
    """``ALL``, a code, or a prefix of at least one code that starts with ``PFT``."""
    s = selector.strip().upper()
    if s == "ALL":
        return True
    return len(s) >= 3 and any(c.startswith(s) for c in known_codes())


def nearest(selector: str) -> str | None:
    """The real code or prefix closest to ``selector`` (a typo such as ``PTF1`` → ``PFT1``)."""
    s = selector.strip().upper()
    codes = known_codes()
    prefixes = sorted({c[:4] for c in codes} | {c[:5] for c in codes})
    # a code with trailing junk (PFT101X, PFT1011) is nearest to the code it starts with
    starts = [c for c in codes if s.startswith(c)]
    if starts:
        return starts[-1]
    pool = list(codes) + [p for p in prefixes if p not in codes]
    best = min(pool, key=lambda c: (_distance(s, c), -len(c)))
    return best if _distance(s, best) <= 2 else None


def closest(word: str, choices: list[str], limit: int = 2) -> str | None:
    """The choice within ``limit`` edits of ``word`` (``chek`` → ``check``), if any."""
    if not choices:
        return None
    best = min(choices, key=lambda c: _distance(word, c))
    return best if _distance(word, best) <= limit else None


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours (``PTF`` for ``PFT``) as one edit."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def suggestion(selector: str) -> str:
    """``; did you mean `PFT999`?`` (or where the codes are listed)."""
    near = nearest(selector)
    return f"; did you mean `{near}`?" if near else "; `peftlint rule --all` lists the codes"


def unknown_message(selector: str) -> str:
    """``PFT999X` is not a peftlint rule code or prefix; did you mean `PFT999`?``"""
    return f"`{selector}` is not a peftlint rule code or prefix{suggestion(selector)}"


def unknown_selectors(selectors: list[str]) -> list[str]:
    return [s for s in selectors if not is_known(s)]


def settings_problems(select: list[str], extend_select: list[str], ignore: list[str],
                      per_file_ignores: dict[str, list[str]], origin: str) -> list[str]:
    """One message per unknown selector of a selection; ``origin`` says where it was written
    (``--select`` or ``pyproject.toml [tool.peftlint] select``)."""
    out = []
    for key, values in (("select", select), ("extend-select", extend_select), ("ignore", ignore)):
        out += [f"{origin}{key}: {unknown_message(s)}" for s in unknown_selectors(values)]
    for pattern, values in per_file_ignores.items():
        out += [f"{origin}per-file-ignores {pattern!r}: {unknown_message(s)}" for s in unknown_selectors(values)]
    return out
