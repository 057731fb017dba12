"""PFT907 file-not-read."""

from __future__ import annotations

import json

from peftlint.codes import Code
from peftlint.diagnostics import Severity
from peftlint.rules.base import Example, Expect
from peftlint.rules.meta._common import EngineRule

_CELL = {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["from peft import LoraConfig\n",
                                                                           "config = LoraConfig(target_modules=['c_attn'])\n"]}
_V3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
       "worksheets": [{"cells": [{"cell_type": "code", "language": "python", "input": _CELL["source"], "outputs": []}]}]}
_V4 = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{**_CELL, "execution_count": None, "id": "a1"}]}


class FileNotRead(EngineRule):
    code = Code.FILE_NOT_READ
    name = "file-not-read"
    severity = Severity.INFO
    summary = "A file was skipped: not a regular file, over the size limit, or a format peftlint does not read."
    docs = """
    peftlint reads only regular files: a named pipe (FIFO), a device such as a symlink to
    `/dev/zero`, or a socket with a linted name (`*.py`, `adapter_config.json`, ...) is noted and
    skipped, since reading it could block or never end. Files larger than the size limit (10 MB by
    default) are skipped too; raise the limit with `--max-file-size 50MB` or `max-file-size` in
    `[tool.peftlint]`. Jupyter notebooks in the pre-2015 nbformat 3 layout (cells inside
    `"worksheets"`) are not read; convert them with `jupyter nbconvert --to notebook --inplace`.

    The rest of the run is not affected; the note only fails a run with `--strict`.
    """
    bad = (Example(json.dumps(_V3, indent=1), kind="notebook", args=("--model", "gpt2"),
                   expect=(Expect(5, 2, "notebook in the nbformat 3 layout"),)),)
    good = (Example(json.dumps(_V4, indent=1), kind="notebook", args=("--model", "gpt2")),)
