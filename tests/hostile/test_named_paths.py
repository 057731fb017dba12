"""Hostile input, second round: paths named by the linted content, reads of files the content
names, secrets, terminal escapes, encodings, locks and limits in the configuration. Each case is a
real ``peftlint`` process (``support.hostile``: address-space limit, a hang guard); none builds a
model, and the peft facts are built once for all of them (``facts_cache``).
"""

from __future__ import annotations

import http.server
import os
import sys
import threading
from pathlib import Path

import pytest
from support import hostile

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS, FIFOs and /dev/zero as on Linux")

LOAD = """from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("org/m", {kw})
model = get_peft_model(model, LoraConfig(target_modules=["q_proj"]))
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    d = tmp_path / "tree"
    d.mkdir()
    return d


def _outside_listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "tree" not in p.parts and "hf" not in p.parts}


@pytest.mark.parametrize("kw", ['revision="../../../tree/pipe"', 'revision="/dev/zero"', 'subfolder="../../tree/pipe"',
                                'revision="main\\n"'])
def test_revision_and_subfolder_build_no_path(tree: Path, facts_cache: Path, kw: str) -> None:
    hf = tree.parent / "hf"
    (hf / "models--org--m" / "refs").mkdir(parents=True)  # the repo is in the HF cache: its refs would be read
    os.mkfifo(tree / "pipe")  # opening it to read would wait forever for a writer
    (tree / "train.py").write_text(LOAD.format(kw=kw))
    found = hostile.report(hostile.run(tree, facts_cache, "--format", "json", "--show-notes", "train.py",
                                       env={"HF_HUB_CACHE": str(hf)}))
    unresolved = [f for f in found if f["code"] == "PFT901"]
    assert unresolved and ("revision" in hostile.text_of(unresolved[0]) or "subfolder" in hostile.text_of(unresolved[0]))
    assert "builds no path" in hostile.text_of(unresolved[0])


def test_cache_fetch_crafted_revision_writes_nothing_outside(tree: Path, facts_cache: Path) -> None:
    before = _outside_listing(tree.parent)
    (tree / "train.py").write_text(LOAD.format(kw='revision="../../../../../escaped"'))
    got = hostile.run(tree, facts_cache, "cache", "fetch", ".",
                      env={"HF_HUB_CACHE": str(tree.parent / "hf"), "HF_HUB_OFFLINE": None,
                           "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert got.returncode == 1 and "Traceback" not in got.stderr, got.stderr
    assert got.stdout.startswith("failed") and "revision" in got.stdout, got.stdout
    assert _outside_listing(tree.parent) - before <= {"peftlint-cache"}


def test_cache_fetch_reads_with_the_file_rules(tree: Path, facts_cache: Path) -> None:
    os.mkfifo(tree / "pipe.py")
    (tree / "zero.py").symlink_to("/dev/zero")
    with open(tree / "huge.py", "wb") as fh:
        fh.truncate(3 << 30)  # sparse: 3 GB that cost nothing on disk, and more than the memory limit
    got = hostile.run(tree, facts_cache, "cache", "fetch", ".")
    assert got.returncode == 0 and "Traceback" not in got.stderr, got.stderr
    for name in ("pipe.py", "zero.py", "huge.py"):
        assert f"peftlint: {name} could not be read" in got.stderr


def test_huge_model_index_json_is_not_read_whole(tree: Path, facts_cache: Path) -> None:
    (tree / "pipe").mkdir()
    with open(tree / "pipe" / "model_index.json", "wb") as fh:
        fh.truncate(3 << 30)
    (tree / "train.py").write_text("from peft import LoraConfig\n# peftlint: model=./pipe\n"
                                   "config = LoraConfig(target_modules=['q_proj'])\n")
    found = hostile.report(hostile.run(tree, facts_cache, "--format", "json", "--show-notes", "."))
    assert [f["code"] for f in found] == ["PFT901"]


def test_huge_sibling_module_is_not_read_whole(tree: Path, facts_cache: Path) -> None:
    with open(tree / "mymodels.py", "wb") as fh:
        fh.truncate(3 << 30)
    (tree / "train.py").write_text(
        "import torch.nn as nn\nfrom peft import LoraConfig, get_peft_model\nfrom mymodels import Block\n\n\n"
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.block = Block()\n"
        "        self.q_proj = nn.Linear(4, 4)\n\n\n"
        "model = get_peft_model(Net(), LoraConfig(target_modules=['q_proj', 'nope']))\n")
    # Block's module is not read (it is over the size limit): the run completes, no MemoryError (PFT999)
    hostile.report(hostile.run(tree, facts_cache, "--format", "json", "--show-notes", "train.py"))


@pytest.fixture
def forbidding_hub():
    """A local endpoint that answers 403 to everything: huggingface_hub does not retry it and its
    error names the request URL, credentials included."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _no(self) -> None:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET = _no

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_url_credentials_are_redacted_everywhere(tree: Path, facts_cache: Path, forbidding_hub: str) -> None:
    (tree / "train.py").write_text(LOAD.format(kw='revision="main"'))
    env = {"HF_HUB_OFFLINE": None, "HF_ENDPOINT": f"http://alice:s3cr3t@{forbidding_hub}",
           "HF_HUB_CACHE": str(tree.parent / "hf")}
    outputs = []
    for args in (["--online", "--format", "json", "--show-notes", "."], ["--online", "--format", "sarif", "."],
                 ["--online", "--format", "github", "."], ["--online", "--format", "full", "."], ["cache", "fetch", "."]):
        got = hostile.run(tree, facts_cache, *args, env=env)
        assert "Traceback" not in got.stderr, got.stderr
        outputs.append(got.stdout + got.stderr)
    assert all("s3cr3t" not in o for o in outputs), [o for o in outputs if "s3cr3t" in o][0]
    assert any("***@" + forbidding_hub in o for o in outputs), outputs  # the failure is reported, with the host
    for entry in facts_cache.glob("*.json"):
        assert "s3cr3t" not in entry.read_text(errors="replace"), entry


def test_control_characters_in_names_are_escaped(tree: Path, facts_cache: Path) -> None:
    evil = tree / "a\n::error file=x.py::forged"
    evil.mkdir()
    (evil / "t\x1b]0;owned\x07.py").write_text(
        'from peft import LoraConfig\nfrom transformers import AutoModel\n\n'
        'model = AutoModel.from_pretrained("org/m\x1b[2J")\n'
        'config = LoraConfig(target_modules=["q_proj", "q_proj"])\n')
    for args in (["--format", "concise", "."], ["--format", "full", "."], ["--show-configs", "."], ["cache", "fetch", "."]):
        got = hostile.run(tree, facts_cache, *args)
        assert "Traceback" not in got.stderr, got.stderr
        for stream in (got.stdout, got.stderr):
            assert "\x1b" not in stream and "\x07" not in stream, (args, stream)
            assert not any(line.startswith("::") for line in stream.splitlines()), (args, stream)
    assert "a\\x0a::error" in hostile.run(tree, facts_cache, ".").stdout


@pytest.mark.parametrize("value", ["inf", "nan", "1e9"])
def test_unbounded_regex_timeout_is_a_configuration_error(tree: Path, facts_cache: Path, value: str) -> None:
    (tree / "pyproject.toml").write_text(f"[tool.peftlint]\nregex-timeout = {value}\n")
    (tree / "train.py").write_text('from peft import LoraConfig\nconfig = LoraConfig(target_modules="(.*)*z")\n')
    got = hostile.run(tree, facts_cache, ".")
    assert got.returncode == 2 and "Traceback" not in got.stderr
    assert got.stderr.startswith("peftlint: ") and "regex-timeout" in got.stderr


def test_latin1_with_a_coding_cookie_is_linted_and_bom_with_cookie_is_refused(tree: Path, facts_cache: Path) -> None:
    body = b'from peft import LoraConfig\n# caf\xe9\nconfig = LoraConfig(target_modules=["q_proj", "q_proj"])\n'
    (tree / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\n" + body)
    (tree / "bom.py").write_bytes(b"\xef\xbb\xbf# -*- coding: latin-1 -*-\n" + body.replace(b"\xe9", b"e"))
    compile((tree / "latin.py").read_bytes(), "latin.py", "exec")  # CPython accepts the one
    with pytest.raises(SyntaxError):
        compile((tree / "bom.py").read_bytes(), "bom.py", "exec")  # and refuses the other
    found = hostile.report(hostile.run(tree, facts_cache, "--format", "json", "."))
    assert {(f["path"], f["code"]) for f in found if f["code"] != "PFT901"} == {("latin.py", "PFT204"), ("bom.py", "PFT902")}
    got = hostile.run(tree, facts_cache, "--fix", ".")  # a fix is never written in another encoding
    assert "latin.py were not applied: it is not UTF-8" in got.stderr
    assert (tree / "latin.py").read_bytes().endswith(body)


_LOCKS = """
import os, sys
from pathlib import Path
from peftlint import store

with store.file_lock(Path(sys.argv[1]), sys.argv[2]) as held:
    print("held" if held else "not held")
"""


def test_cache_lock_wait_times_out_and_a_planted_link_is_not_followed(tree: Path, facts_cache: Path) -> None:
    from peftlint import store

    locks = tree.parent / "locks"
    victim = tree.parent / "victim.txt"
    victim.write_text("keep")
    locks.mkdir()
    (locks / f"{store.LOCK_PREFIX}planted{store.LOCK_SUFFIX}").symlink_to(victim)
    got = hostile.run(tree, facts_cache, str(locks), "planted", script=_LOCKS)
    assert got.stdout.strip() == "not held" and victim.read_text() == "keep"
    with store.file_lock(locks, "busy") as held:  # this process holds it, as a run stopped with Ctrl-Z would
        assert held
        got = hostile.run(tree, facts_cache, str(locks), "busy", script=_LOCKS, env={"PEFTLINT_LOCK_TIMEOUT": "0.2"})
    assert got.returncode == 0 and got.stdout.strip() == "not held", got.stderr
    assert "going on without waiting for it" in got.stderr


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_peft_cannot_read_an_adapter_config_with_a_bom(tmp_path: Path, encoding: str) -> None:
    """The oracle for the PFT401 the hostile set expects for these files: peft's own loader fails."""
    import json

    from peft import PeftConfig

    doc = {"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "task_type": "CAUSAL_LM"}
    (tmp_path / "adapter_config.json").write_bytes(json.dumps(doc).encode(encoding))
    with pytest.raises(ValueError):  # json.JSONDecodeError (Unexpected UTF-8 BOM) / UnicodeDecodeError
        PeftConfig.from_pretrained(str(tmp_path))
