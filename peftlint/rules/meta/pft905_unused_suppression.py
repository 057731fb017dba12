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
    summary = "A `# noqa: PFTxxx` that suppresses nothing, or names no rule."
    docs = """
    A `# noqa: PFT101` on a line where PFT101 is not reported is stale: the config was fixed, or
    the comment sits on the wrong line. One that names no rule (`# noqa: PFT1O1`) is a typo that
    suppresses nothing; the message names the nearest real code. Codes of other linters (`E501`)
    are left alone. A comment is not reported for a rule that was skipped (the base model was not
    resolved) or is not selected.

    Fix (safe): `--fix` deletes a `# noqa: CODE` that names this one code and has nothing after it
    on its line (not in notebooks). A comment with several codes is left to you.
    """
    bad = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])  # noqa: PFT101\n",
                   expect=(Expect(4, 49, "`# noqa: PFT101` suppresses nothing on this line",
                                  fixed="from peft import LoraConfig\n\n# peftlint: model=gpt2\n"
                                        "config = LoraConfig(target_modules=['c_attn'])\n"),)),
           Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_atn'])  # noqa: PFT1O1\n",
                   expect=(Expect(4, 48, "`# noqa: PFT1O1` names no peftlint rule; did you mean `PFT101`?"),)))
    good = (Example("from peft import LoraConfig\n\n# peftlint: model=gpt2\nconfig = LoraConfig(target_modules=['c_attn'])\n"),)
