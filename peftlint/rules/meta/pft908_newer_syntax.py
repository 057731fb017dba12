"""PFT908 newer-syntax."""

from __future__ import annotations

from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


class NewerSyntax(EngineRule):
    code = "PFT908"
    name = "newer-syntax"
    severity = Severity.INFO
    summary = "A file uses syntax of a newer Python than the one peftlint runs on; it is still linted."
    docs = """
    A file written for Python 3.12+ (f-strings that reuse their quotes, `f"{d["q"]}"`, or hold
    backslashes; type parameters `def f[T]()`; `type X = ...`) or 3.14 (template strings `t"..."`,
    `except A, B:`) is valid code, but the parser of an older Python rejects it. peftlint then reads
    the file with libcst, which knows every Python 3 grammar: the configs in it are found and
    checked, and the newer expressions (an f-string with nested quotes, a template string) count as
    values computed at runtime. This note names the Python version the file needs and the lines that
    need it (in a notebook: the cell, which is linted too, not skipped as `PFT906`). Only when even
    that reading fails is the file left out, and the note says so.

    Nothing is wrong with the file. Fix: run peftlint on the Python version the project uses (or
    ignore the note, `--ignore PFT908`).
    """
    bad = (Example(
        'import torch.nn as nn\nfrom peft import LoraConfig, get_peft_model\n\nwho = "lora"\nlabel = t"hello {who}"\n\n\n'
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.lin0 = nn.Linear(4, 4)\n\n\n"
        'get_peft_model(Net(), LoraConfig(target_modules=["lin0"]))\n',
        note="on Python 3.14 and later the file parses as it is and there is no note",
        expect=(Expect(5, 1, "this file needs Python 3.14+ (template strings"),)),)
    good = (Example("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n"),)
