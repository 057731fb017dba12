#!/usr/bin/env python3
"""Regenerate the option table of docs/configuration.md (between <!-- options:start --> and
<!-- options:end -->) from the settings schema: the [tool.peftlint] keys, the types and defaults of
the ``Settings`` fields they set, and which keys the linted repository may not set.

    python scripts/gen_config_doc.py          # rewrite it
    python scripts/gen_config_doc.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peftlint import config  # noqa: E402

DOC = Path("docs") / "configuration.md"
START, END = "<!-- options:start -->", "<!-- options:end -->"
LIMITS = {"max_file_size": "bytes, or a size such as `\"10MB\"`", "regex_timeout": "seconds",
          "max_model_modules": "modules"}


def _type(tp: typing.Any) -> str:
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if tp is float:
        return "number"
    if tp is str:
        return "string"
    args = typing.get_args(tp)
    if typing.get_origin(tp) is list:
        return f"array of {_type(args[0])}s"
    if typing.get_origin(tp) is dict:
        return f"table of {_type(args[1])}s".replace("array of strings", "string array")
    if type(None) in args:  # str | None: TOML has no null, leaving the key out is the default
        return " or ".join(_type(a) for a in args if a is not type(None))
    raise ValueError(f"no TOML name for {tp!r}")


def _default(value: typing.Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value in ([], {}):
        return "`[]`" if value == [] else "`{}`"
    return f"`{value!r}`" if not isinstance(value, str) else f'`"{value}"`'


def options_table() -> str:
    hints = typing.get_type_hints(config.Settings)
    defaults = config.Settings()
    rows = ["| key | type | default | notes |", "|---|---|---|---|"]
    for key, attr in config._KEYS.items():
        notes = []
        if attr in LIMITS:
            notes.append(f"a [limit](#limits): {LIMITS[attr]}")
        if key in config._USER_ONLY:
            notes.append(f"[not read from the repository](#settings-the-repository-cannot-set): "
                         f"{config._USER_ONLY[key][0]}")
        rows.append(f"| `{key}` | {_type(hints[attr])} | {_default(getattr(defaults, attr))} | {'; '.join(notes)} |")
    return "\n".join(rows) + "\n"


def expected(root: Path = ROOT) -> dict[Path, str]:
    doc = (root / DOC).read_text(encoding="utf-8")
    start, end = doc.index(START) + len(START), doc.index(END)
    return {root / DOC: doc[:start] + "\n" + options_table() + doc[end:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the file is up to date")
    args = parser.parse_args(argv)
    for path, text in expected().items():
        if path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            print(f"{path} is out of date: run python scripts/gen_config_doc.py", file=sys.stderr)
            return 1
        path.write_text(text, encoding="utf-8")
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
