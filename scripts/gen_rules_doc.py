#!/usr/bin/env python3
"""Regenerate the rule list in README.md (between <!-- rules:start --> and <!-- rules:end -->).

    python scripts/gen_rules_doc.py          # rewrite README.md
    python scripts/gen_rules_doc.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peftlint.rules import all_rules  # noqa: E402
from peftlint.rules.docs import replace_block, rules_markdown  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    old = args.readme.read_text(encoding="utf-8")
    new = replace_block(old, rules_markdown(all_rules()))
    if args.check:
        if new != old:
            print(f"{args.readme} is out of date: run python scripts/gen_rules_doc.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        args.readme.write_text(new, encoding="utf-8")
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
