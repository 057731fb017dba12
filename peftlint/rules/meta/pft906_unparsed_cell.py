"""PFT906 unparsed-cell."""

from __future__ import annotations

import json

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


def _notebook(*cells: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                  "source": c} for c in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


class UnparsedCell(EngineRule):
    code = Code.UNPARSED_CELL
    name = "unparsed-cell"
    severity = Severity.INFO
    summary = "A notebook cell is not Python peftlint can parse; it was skipped, the other cells are linted."
    docs = """
    Notebook cells are read as one Python program, with IPython syntax understood: line magics
    (`%pip install ...`, `%time model = load()`), shell escapes (`!pip install ... \\` with
    continuation lines), `x = !ls`, `x = %env`, `obj?` help, and cell magics (`%%bash`,
    `%%writefile` and other non-Python cells are skipped; `%%time`, `%%capture` cells are
    linted). A cell that still does not parse (a missing comma, a half-written cell) would run
    into a `SyntaxError` in Jupyter too; peftlint leaves it out and says so here, at the position
    of the error, and lints the rest of the notebook. Nothing is wrong with the configs in the
    other cells; a config in this cell was not checked.

    Fix: repair the cell, or ignore the note (`--ignore PFT906`).
    """
    bad = (Example(_notebook(
        "from peft import LoraConfig\n",
        "print(dict(a=1\n         b=2))\n",
    ), kind="notebook", expect=(Expect(15, 28, "cell not linted"),)),)
    good = (Example(_notebook(
        "!pip install peft \\\n    trl\n",
        "from peft import LoraConfig\n",
        "print(dict(a=1,\n         b=2))\n",
    ), kind="notebook"),)
