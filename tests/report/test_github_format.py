"""``--format github``: one workflow command per finding, escaped as the Actions toolkit does."""

from __future__ import annotations

from pathlib import Path

from support.lintutil import run_cli

from peftlint.diagnostics import Diagnostic, Severity, Span
from peftlint.report.github import annotation, escape_data, escape_property

BAD = '''from peft import LoraConfig
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("HuggingFaceTB/SmolLM2-135M")
config = LoraConfig(target_modules=["q_proj", "vproj", "q_proj"])
other = LoraConfig(target_modules=["q_proj"])  # peftlint: model=./nowhere
'''


def test_escaping_follows_the_toolkit():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_data("a:b,c") == "a:b,c"
    assert escape_property("dir,1/a:b%.py\n") == "dir%2C1/a%3Ab%25.py%0A"


def test_annotation_shape():
    d = Diagnostic("PFT101", "unmatched-target", Severity.ERROR, "`vproj` matches nothing:\nfix it, 100%",
                   "src/a,b.py", Span(5, 47, 5, 54))
    assert annotation(d) == ("::error file=src/a%2Cb.py,line=5,col=47,endLine=5,endColumn=54,"
                             "title=peftlint (PFT101)::`vproj` matches nothing:%0Afix it, 100%25")


def test_cli_github_format(tmp_path: Path):
    (tmp_path / "train.py").write_text(BAD, encoding="utf-8")
    code, out = run_cli(["check", "--format", "github", "."], tmp_path)
    assert code == 1
    lines = out.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    typo = next(line for line in lines if "PFT101" in line)
    assert typo.startswith("::error file=train.py,line=5,col=47,endLine=5,endColumn=54,title=peftlint (PFT101)::")
    assert "`vproj` matches no module" in typo
    assert any(line.startswith("::warning ") and "title=peftlint (PFT204)" in line for line in lines)
    assert any(line.startswith("::notice ") and "title=peftlint (PFT901)" in line for line in lines)


def test_github_format_clean_run_prints_nothing(tmp_path: Path):
    (tmp_path / "ok.py").write_text("x = 1\n", encoding="utf-8")
    code, out = run_cli(["check", "--format", "github", "."], tmp_path)
    assert (code, out) == (0, "")


def test_paths_are_relative_to_the_repository(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "training"
    sub.mkdir()
    (sub / "train.py").write_text(BAD, encoding="utf-8")
    code, out = run_cli(["check", "--format", "github", "train.py"], sub)
    assert code == 1
    assert all("file=training/train.py," in line for line in out.splitlines())
