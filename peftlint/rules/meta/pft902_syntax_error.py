"""PFT902 syntax-error."""

from __future__ import annotations

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


class SyntaxProblem(EngineRule):
    code = Code.SYNTAX_ERROR
    name = "syntax-error"
    severity = Severity.ERROR
    summary = "A file cannot be parsed (or read); the other files are still linted."
    bad = (Example("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'\n",
                   expect=(Expect(2, 36, "cannot parse: '[' was never closed"),)),)
    good = (Example("from peft import LoraConfig\nconfig = LoraConfig(target_modules=['q_proj'])\n"),)
