#!/usr/bin/env python3
"""Regenerate docs/rules.md and the rule table in README.md (between <!-- rules:start --> and
<!-- rules:end -->) from the rule classes.

    python scripts/gen_rules_doc.py          # rewrite both
    python scripts/gen_rules_doc.py --check  # exit 1 if either is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peftlint.rules import all_rules  # noqa: E402
from peftlint.rules.docs import RULES_DOC, readme_block, replace_block, rules_document  # noqa: E402


def expected(root: Path = ROOT) -> dict[Path, str]:
    """What the generated files must contain."""
    readme = root / "README.md"
    return {
        readme: replace_block(readme.read_text(encoding="utf-8"), readme_block(all_rules())),
        root / RULES_DOC: rules_document(all_rules()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the files are up to date")
    args = parser.parse_args(argv)
    stale = 0
    for path, text in expected().items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old == text:
            continue
        if args.check:
            print(f"{path} is out of date: run python scripts/gen_rules_doc.py", file=sys.stderr)
            stale += 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"updated {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
