"""The command line runs without Python's cyclic collector (``peftlint.__main__``); the engine then
frees each linted file's cycles itself, so a long run does not keep them all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from support.helpers_hf import REPO_ROOT

from peftlint.config import Settings
from peftlint.engine.run import Linter

CONFIG = textwrap.dedent("""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained("gpt2")
    model = get_peft_model(model, LoraConfig(target_modules=["c_atn"], r={r}))
""")
PROBE = textwrap.dedent("""
    import gc, json, sys
    from pathlib import Path
    gc.disable()
    from peftlint.config import Settings
    from peftlint.engine.run import Linter
    files = sorted(Path(sys.argv[1]).glob("*.py"))[: int(sys.argv[2])]
    Linter(Settings(), Path(sys.argv[1])).lint_paths(files, jobs=1)
    print(json.dumps({"left": gc.collect()}))
""")


def test_each_file_cycles_are_freed(tmp_path: Path) -> None:
    for i in range(24):
        (tmp_path / f"t{i:02d}.py").write_text(CONFIG.replace("{r}", str(4 + i)))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PEFTLINT_CACHE_DIR": str(tmp_path / "cache")}

    def left(n: int) -> int:
        out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), str(n)], env=env, capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout)["left"]

    # fills the cache (in this process): the runs below differ only in how many files they lint
    Linter(Settings(cache_dir=str(tmp_path / "cache")), tmp_path).lint_paths(sorted(tmp_path.glob("*.py")), jobs=1)
    one, many = left(1), left(24)
    assert many < 2 * one + 200, (one, many)  # the last file's cycles, not 24 files' worth
