"""PFT905 unused-suppression."""

from __future__ import annotations

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule


class UnusedSuppression(EngineRule):
    code = Code.UNUSED_SUPPRESSION
    name = "unused-suppression"
    severity = Severity.WARNING
    summary = "A `# noqa: PFTxxx` that suppresses nothing."
    bad = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])  # noqa: PFT101\n",
                   expect=(Expect(4, 49, "`# noqa: PFT101` suppresses nothing on this line"),)),)
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)
