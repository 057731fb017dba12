"""The command line: ``peftlint [check] PATH...``, ``peftlint rule CODE``, ``peftlint cache ...``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

from peftlint import __version__

if TYPE_CHECKING:
    from peftlint.config import Settings
    from peftlint.engine.run import Linter
    from peftlint.rules.base import Rule

EXIT_OK, EXIT_FINDINGS, EXIT_FAILURE = 0, 1, 2
TEXT_FORMATS = ("concise", "full", "text")
OUTPUT_FORMATS = [*TEXT_FORMATS, "json", "sarif", "github"]


class _DefaultGroup(click.Group):
    """``peftlint PATH`` means ``peftlint check PATH`` (as ruff's ``ruff check``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            if args and _looks_like_command(args[0]):
                from peftlint.rules.selectors import closest

                near = closest(args[0], sorted(self.commands))
                hint = f"; did you mean `peftlint {near}`?" if near else ""
                _err(f"peftlint: `{args[0]}` is neither a command nor a file or directory{hint} "
                     f"(commands: {', '.join(sorted(self.commands))})")
                sys.exit(EXIT_FAILURE)
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _looks_like_command(word: str) -> bool:
    """A bare word that names no existing path (``chek``, ``rules``): a mistyped command. Anything
    with a path separator or a dot, or that exists, stays a path for ``check``."""
    return word.isidentifier() and word.lower() == word and not Path(word).exists()


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="peftlint")
def main() -> None:
    """Lint PEFT adapter configs against the base model's real module tree."""


def _print_notes(settings: object) -> None:
    """Settings the repository asked for but may not set (see config.py), one stderr line each."""
    for note in getattr(settings, "notes", ()):
        _err(f"peftlint: {note}")


def _err(text: str) -> None:
    """``text`` on stderr, each of its lines with control characters escaped."""
    from peftlint.report.printable import escape_line

    for line in text.split("\n"):
        click.echo(escape_line(line), err=True)


def _use_color(choice: str) -> bool:
    """``--color``; with ``auto``, NO_COLOR (https://no-color.org) turns it off, FORCE_COLOR on, else
    whether stdout is a terminal."""
    import os

    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _patterns(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def _codes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _settings_origin(settings: object) -> str:
    path = getattr(settings, "config_file", None) or "pyproject.toml"
    return f"{path}: [tool.peftlint] " if Path(path).name == "pyproject.toml" else f"{path}: "


def _discover_configurations(linter: "Linter", config_file: Path | None,
                             finish: Callable[[Settings], Settings] = lambda s: s) -> None:
    """Each file gets its nearest configuration (ruff's discovery), ``finish``ed (the command line's
    options on top); with ``--config`` the linter's settings are for every file."""
    if config_file is None:
        from peftlint.config import load_settings_file
        from peftlint.engine.hierarchy import Hierarchy

        base = Path(linter.settings.config_file) if linter.settings.config_file else None
        linter.hierarchy = Hierarchy(linter.settings, base, lambda path: finish(load_settings_file(path)))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--output-format", "--format", "fmt", default=None,
              envvar="PEFTLINT_OUTPUT_FORMAT", type=click.Choice(OUTPUT_FORMATS),
              help="concise: errors and warnings, one line each; full: every finding with its explanation; "
                   "json, sarif, github: every finding, notes included (text = concise). Default: "
                   "`output-format` in [tool.peftlint], else concise.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text report: auto = on a terminal, unless NO_COLOR is set (FORCE_COLOR forces it).")
@click.option("--show-notes", is_flag=True, help="Also print notes (info findings) in the concise output.")
@click.option("--show-configs", is_flag=True,
              help="List every config with the model it is checked against and where that model came from, "
                   "or why it is not checked (text, or JSON with --output-format json); then exit 0.")
@click.option("-o", "--output-file", type=click.Path(path_type=Path), help="Write the report to this file.")
@click.option("--select", help="Comma-separated rule codes or prefixes to enable (default: all); replaces the "
              "configuration's select, extend-select and ignore.")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", help="Comma-separated rule codes or prefixes to disable, on top of the configuration's "
              "ignore.")
@click.option("--exclude", "exclude", multiple=True,
              help="Paths to leave out, gitignore-style patterns (comma-separated or repeated); replaces `exclude`.")
@click.option("--extend-exclude", "extend_exclude", multiple=True,
              help="Patterns to leave out on top of `exclude`.")
@click.option("--force-exclude/--no-force-exclude", default=None,
              help="Apply the excludes to paths named on the command line too (pre-commit names every file).")
@click.option("--model", help="Base model (hub id, local path, alias, or local:Class for an nn.Module class of the "
              "linted code) for every config; wins over the code.")
@click.option("--online/--offline", default=None, help="Allow downloading config.json of unknown models (default: offline).")
@click.option("--trust-remote-code", is_flag=True, default=None, help="Build models that need custom code from the hub.")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, default=None, help="With --fix/--diff, also apply unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a diff; change nothing.")
@click.option("--strict", is_flag=True, default=None, help="Unresolved models are errors; notes fail the run.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are reported.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of the findings.")
@click.option("--no-cache", is_flag=True, default=None, help="Do not read or write the cache (inventories and results).")
@click.option("--no-result-cache", is_flag=True,
              help="Lint every file again instead of reusing unchanged files' findings, and store the new findings "
              "(inventories stay cached).")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Cache directory.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Lint files in this many processes (0 = one per CPU when enough files need linting; 1 = serial).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Use this pyproject.toml ([tool.peftlint]) or peftlint.toml for every file, instead of "
                   "each file's nearest configuration.")
@click.option("--max-file-size", help="Do not read files larger than this (bytes, or e.g. 20MB; default 10MB).")
@click.option("--stdin-filename", type=click.Path(path_type=Path),
              help="Lint the text on stdin (PATH `-`, or no PATH) as if it were this file: its settings, model "
                   "and per-file ignores. Writes nothing; with --fix the fixed text goes to stdout.")
def check(paths: tuple[Path, ...], fmt: str, show_notes: bool, show_configs: bool, output_file: Path | None,
          select: str | None, extend_select: str | None, ignore: str | None, model: str | None, online: bool | None,
          trust_remote_code: bool | None, fix: bool, unsafe_fixes: bool | None, diff: bool,
          strict: bool | None, exit_zero: bool, statistics: bool, no_cache: bool | None, no_result_cache: bool,
          cache_dir: Path | None, jobs: int, config_file: Path | None, max_file_size: str | None,
          exclude: tuple[str, ...], extend_exclude: tuple[str, ...], force_exclude: bool | None, color: str,
          stdin_filename: Path | None) -> None:
    """Lint PATHS (files or directories; default: the current directory; `-`: stdin, see --stdin-filename)."""
    from peftlint.config import SettingsError, load_settings, merge_cli, merge_cli_selection, parse_size
    from peftlint.engine.progress import Progress
    from peftlint.engine.run import Linter
    from peftlint.report import renderers
    from peftlint.rules.selectors import settings_problems

    stdin = paths == (Path("-"),) or (stdin_filename is not None and not paths)
    if (stdin and stdin_filename is None) or (stdin_filename is not None and not stdin) or (
            not stdin and Path("-") in paths):
        click.echo("peftlint: to lint stdin, pass --stdin-filename PATH (the file the text is linted as) and `-` "
                   "as the only path", err=True)
        sys.exit(EXIT_FAILURE)
    size = parse_size(max_file_size) if max_file_size is not None else None
    if max_file_size is not None and size is None:
        click.echo(f"peftlint: --max-file-size {max_file_size!r}: expected a size such as 20MB or 1048576", err=True)
        sys.exit(EXIT_FAILURE)
    cli_problems = settings_problems(_codes(select) or [], _codes(extend_select) or [], _codes(ignore) or [], {}, "--")
    for problem in cli_problems:
        _err(f"peftlint: {problem}")
    if cli_problems:
        sys.exit(EXIT_FAILURE)

    def finish(settings: Settings) -> Settings:
        """A configuration's settings with the command line's options on top; an unknown rule code
        in it stops the run (SettingsError)."""
        problems = settings_problems(settings.select, settings.extend_select, settings.ignore,
                                     settings.per_file_ignores, _settings_origin(settings))
        if problems:
            raise SettingsError("\npeftlint: ".join(problems))
        if settings.output_format is not None and settings.output_format not in OUTPUT_FORMATS:
            raise SettingsError(f"{_settings_origin(settings)}output-format: {settings.output_format!r} is not "
                                f"one of {', '.join(OUTPUT_FORMATS)}")
        settings = merge_cli(
            merge_cli_selection(settings, _codes(select), _codes(extend_select), _codes(ignore)),
            cli_model=model, online=online, trust_remote_code=trust_remote_code, strict=strict,
            no_cache=no_cache, cache_dir=str(cache_dir) if cache_dir else None, unsafe_fixes=unsafe_fixes,
            max_file_size=size, exclude=_patterns(exclude),
            extend_exclude=settings.extend_exclude + (_patterns(extend_exclude) or []), force_exclude=force_exclude,
        )
        from peftlint.engine.discover import pattern_problem

        bad = [(p, pattern_problem(p)) for p in [*settings.exclude, *settings.extend_exclude]]
        if any(why for _, why in bad):
            raise SettingsError("\npeftlint: ".join(f"{_settings_origin(settings)}exclude: `{p}` is not a valid pattern "
                                                    f"({why})" for p, why in bad if why))
        _print_notes(settings)
        return settings

    try:
        # stdin gets the settings of the file it stands for
        where = stdin_filename.parent if stdin_filename is not None else Path.cwd()
        settings = finish(load_settings(where, config_file))
    except SettingsError as exc:
        _err(f"peftlint: {exc}")
        sys.exit(EXIT_FAILURE)
    fmt = fmt or settings.output_format or "concise"
    if stdin:
        assert stdin_filename is not None  # checked above: reading stdin needs the name it stands for
        _check_stdin(settings, stdin_filename, fmt, output_file, fix, diff, exit_zero,
                     {"statistics": statistics, "settings": settings, "show_notes": show_notes}, show_configs)
    missing = [p for p in paths if not p.exists()]
    if missing:
        click.echo(f"peftlint: no such file or directory: {', '.join(str(p) for p in missing)}", err=True)
        sys.exit(EXIT_FAILURE)
    # the progress line goes with the human-readable report only (never JSON, SARIF or annotations)
    progress = Progress() if fmt in TEXT_FORMATS else None
    use_color = False
    linter = Linter(settings, result_cache=True, refresh_results=no_result_cache, progress=progress)
    _discover_configurations(linter, config_file, finish)
    try:
        try:
            result = linter.lint_paths(list(paths) or [Path(".")], jobs=jobs)
        except SettingsError as exc:  # a nested configuration with an unknown code
            _err(f"peftlint: {exc}")
            sys.exit(EXIT_FAILURE)
        finally:
            if progress is not None:
                progress.close()
        if show_configs:
            from peftlint.report import configs
            from peftlint.report.printable import escape_controls, printable

            rendered = (printable(configs.render_json(result, {})) if fmt == "json"
                        else escape_controls(configs.render_text(result, {})))
        elif fix or diff:
            from peftlint.fix.apply import apply_fixes

            outcome, result = apply_fixes(linter, result, list(paths) or [Path(".")], write=fix and not diff,
                                          unsafe=bool(settings.unsafe_fixes))
            for rel in outcome.rejected:
                _err(f"peftlint: fixes for {rel} were not applied: the result would not parse")
            for rel, why in outcome.not_applied:
                _err(f"peftlint: fixes for {rel} were not applied: {why}")
            if diff:
                from peftlint.report.printable import printable

                click.echo(printable(outcome.diff), nl=False)
                sys.exit(EXIT_FINDINGS if outcome.diff and not exit_zero else EXIT_OK)
            if outcome.fixed and fmt in TEXT_FORMATS:
                n, f = outcome.fixed, len(outcome.files)
                click.echo(f"Fixed {n} finding{'s' if n != 1 else ''} in {f} file{'s' if f != 1 else ''}.", err=True)
        if not show_configs:
            from peftlint.report.printable import escape_controls, printable

            use_color = fmt in TEXT_FORMATS and not output_file and _use_color(color)
            options = {"statistics": statistics, "settings": settings, "show_notes": show_notes,
                       "paths": [str(p) for p in paths], "color": use_color}
            rendered = printable(renderers()[fmt](result, options))
            if fmt in TEXT_FORMATS and not use_color:  # a coloured report escaped its pieces before painting
                rendered = escape_controls(rendered)
    except KeyboardInterrupt:  # Ctrl-C: a file being fixed keeps its old content, no temp file stays
        _err("peftlint: interrupted")
        sys.exit(130)
    except Exception as exc:  # a failure of the whole run, not of one file
        click.echo(f"peftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    _write_report(output_file, rendered, color=use_color)
    if show_configs:
        sys.exit(EXIT_OK)
    failing = [d for d in result.diagnostics if d.severity.value != "info" or settings.strict]
    sys.exit(EXIT_OK if exit_zero or not failing else EXIT_FINDINGS)


def _write_report(path: Path | None, text: str, color: bool | None = None) -> None:
    """The report in ``path`` (stdout when None); one that cannot be written fails the run (exit 2),
    even with --exit-zero."""
    from peftlint.report.output import ReportNotWritten, write_report

    try:
        write_report(path, text, color=color)
    except ReportNotWritten as exc:
        _err(f"peftlint: {exc}")
        sys.exit(EXIT_FAILURE)


def _check_stdin(settings: Settings, name: Path, fmt: str, output_file: Path | None, fix: bool, diff: bool,
                 exit_zero: bool, options: dict, show_configs: bool = False) -> None:
    """``check --stdin-filename NAME -``: the report on stdout, or with --fix the fixed text on stdout
    and the report of what is left on stderr (ruff's behaviour); exits."""
    import shutil

    from peftlint.engine.run import Linter
    from peftlint.report import renderers
    from peftlint.report.printable import printable
    from peftlint.stdin import lint_stdin, read_stdin

    stream = sys.stdin.buffer
    data, more = read_stdin(stream, settings.max_file_size)
    try:
        got = lint_stdin(Linter(settings), data, name, fix=fix and not show_configs, diff=diff and not show_configs,
                         unsafe=bool(settings.unsafe_fixes))
        if show_configs:
            from peftlint.report import configs

            click.echo(printable((configs.render_json if fmt == "json" else configs.render_text)(got.result, {})),
                       nl=False)
            sys.exit(EXIT_OK)
        rendered = printable(renderers()[fmt](got.result, options))
    except Exception as exc:  # a failure of the whole run
        click.echo(f"peftlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    if got.rejected:
        _err(f"peftlint: fixes for {name} were not applied: the result would not parse")
    if diff:
        sys.stdout.buffer.write(got.output)
        sys.exit(EXIT_FINDINGS if got.output and not exit_zero else EXIT_OK)
    if fix:
        out = sys.stdout.buffer
        out.write(got.output)
        if more:  # over the size limit: not linted, passed through unchanged
            shutil.copyfileobj(stream, out)
        out.flush()
    if output_file:
        _write_report(output_file, rendered)
    else:
        click.echo(rendered, nl=False, err=fix)
    if fix and got.fixed and fmt in TEXT_FORMATS:
        _err(f"Fixed {got.fixed} finding{'s' if got.fixed != 1 else ''}.")
    failing = [d for d in got.result.diagnostics if d.severity.value != "info" or settings.strict]
    sys.exit(EXIT_OK if exit_zero or not failing else EXIT_FINDINGS)


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every rule.")
@click.option("--output-format", "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: code, name, severity, summary and the explanation (markdown).")
def rule(code: str | None, show_all: bool, fmt: str) -> None:
    """Explain a rule (PFT101) or list them all."""
    import json

    from peftlint.rules import all_rules, rule_by_code
    from peftlint.rules.docs import explain, explain_text

    def as_json(r: type[Rule]) -> dict:
        return {"code": r.code, "name": r.name, "severity": r.severity.value, "summary": r.summary.strip(),
                "needs_model": r.needs_model, "explanation": explain(r)}

    if code is None or show_all:
        if fmt == "json":
            click.echo(json.dumps([as_json(r) for r in all_rules()], indent=2))
            return
        for r in all_rules():
            click.echo(f"{r.code}  {r.name:<28} {r.severity.value:<8} {r.summary}")
        return
    found = rule_by_code(code)
    if found is None:
        from peftlint.rules.selectors import suggestion

        click.echo(f"peftlint: unknown rule {code!r}{suggestion(code)}", err=True)
        sys.exit(EXIT_FAILURE)
    click.echo(json.dumps(as_json(found), indent=2) if fmt == "json" else explain_text(found).rstrip("\n"))


@main.command()
@click.argument("model")
@click.option("--format", "fmt", default="text", show_default=True, type=click.Choice(["text", "json"]),
              help="Output format.")
@click.option("--model-class", help="transformers (or diffusers) class to build (default: from task type or the config).")
@click.option("--subfolder", help="Folder of the model in its repository: a diffusers pipeline's unet, transformer, "
              "text_encoder, ... (also written MODEL:SUBFOLDER).")
@click.option("--task-type", help="PEFT task_type (CAUSAL_LM, SEQ_CLS, ...): picks the class and what all-linear skips.")
@click.option("--revision", help="Revision of a hub model in the Hugging Face cache.")
@click.option("--online/--offline", default=None, help="Allow downloading config.json of unknown models (default: offline).")
@click.option("--trust-remote-code", is_flag=True, default=None, help="Build models that need custom code from the hub.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Inventory cache directory.")
@click.option("--adapter-config", type=click.Path(path_type=Path, exists=True),
              help="An adapter_config.json (or a folder holding one): also print what it trains on MODEL, "
                   "as peft's print_trainable_parameters() would.")
def modules(model: str, fmt: str, model_class: str | None, subfolder: str | None, task_type: str | None,
            revision: str | None, online: bool | None, trust_remote_code: bool | None, cache_dir: Path | None,
            adapter_config: Path | None) -> None:
    """List the modules of MODEL an adapter can target, and ready-to-paste target_modules.

    MODEL is a hub id, a local directory or an alias from [tool.peftlint] models; a diffusers
    pipeline's component is MODEL:unet (or --subfolder unet). With --adapter-config, also the
    trainable parameters, adapted modules and adapter file size of that config on MODEL.
    """
    from peftlint.config import SettingsError, load_settings, merge_cli
    from peftlint.model.load import load_inventory
    from peftlint.report.modules_text import render_json, render_text
    from peftlint.semantics.describe import describe_modules

    try:
        settings = load_settings(Path.cwd(), None)
    except SettingsError as exc:
        click.echo(f"peftlint: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    settings = merge_cli(settings, online=online, trust_remote_code=trust_remote_code,
                         cache_dir=str(cache_dir) if cache_dir else None)
    _print_notes(settings)
    cdir = settings.cache_directory()
    base_dirs = tuple(d for d in (settings.project_root, str(Path.cwd())) if d)
    got = load_inventory(model, settings, cdir, revision=revision, base_dirs=base_dirs, model_class=model_class,
                         task_type=task_type.upper() if task_type else None, subfolder=subfolder)
    if got.inventory is None:
        click.echo(f"peftlint: cannot list the modules: {got.why}", err=True)
        sys.exit(EXIT_FAILURE)
    report = describe_modules(got.inventory, task_type.upper() if task_type else None)
    if adapter_config is not None:
        from peftlint.engine.adapter_count import AdapterConfigError, count_adapter_config

        try:
            method, count = count_adapter_config(adapter_config, got.inventory, settings,
                                                 task_type.upper() if task_type else None)
        except AdapterConfigError as exc:
            click.echo(f"peftlint: {exc}", err=True)
            sys.exit(EXIT_FAILURE)
        report.adapter = {"adapter_config": str(adapter_config), "method": method, **count.report_fields(),
                          "line": count.line()}
    from peftlint.report.printable import escape_controls

    click.echo(render_json(report) if fmt == "json" else escape_controls(render_text(report)), nl=False)


@main.command()
def server() -> None:
    """Run the language server (LSP over stdin/stdout) for editors; see docs/editors.md."""
    from peftlint.server import run

    run()


@main.group()
def cache() -> None:
    """Manage the cache (model inventories, peft facts, per-file results), and fetch the config.json
    files a project needs."""


@cache.command("dir")
def cache_dir_cmd() -> None:
    """Print the cache directory."""
    from peftlint.store import default_cache_dir

    click.echo(str(default_cache_dir()))


@cache.command("clear")
def cache_clear() -> None:
    """Remove every cached inventory and result."""
    from peftlint import store

    n = store.clear(store.default_cache_dir())
    click.echo(f"removed {n} cached entr{'y' if n == 1 else 'ies'}")


@cache.command("fetch")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, hidden=True, help="Kept for old scripts: a failed download always exits 1.")
@click.option("--list", "list_only", is_flag=True,
              help="Print the models PATHS name, one a line, sorted, and download nothing (a CI cache key).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Read [tool.peftlint] from this file for every path instead of each file's nearest "
              "configuration.")
def cache_fetch(paths: tuple[Path, ...], strict: bool, list_only: bool, config_file: Path | None) -> None:
    """Download the config.json of every base model PATHS name into the Hugging Face cache.

    Exits 1 when a download failed (the last line on stderr names them). Only config.json files,
    through huggingface_hub (HF_TOKEN or `hf auth login` for gated models,
    HF_ENDPOINT, HF_HUB_CACHE); models already cached, local directories and bundled configs are
    skipped. Later `peftlint` runs then resolve every model offline (cache the HF cache in CI).
    """
    from peftlint.config import SettingsError, load_settings
    from peftlint.engine.collect import collect_models
    from peftlint.engine.run import Linter
    from peftlint.model.fetch import fetch_config
    from peftlint.model.resolve import ResolveOptions
    from peftlint.redact import redact
    from peftlint.report.printable import escape_line

    try:
        settings = load_settings(Path.cwd(), config_file)
    except SettingsError as exc:
        click.echo(f"peftlint: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    missing = [p for p in paths if not p.exists()]
    if missing:
        click.echo(f"peftlint: no such file or directory: {', '.join(str(p) for p in missing)}", err=True)
        sys.exit(EXIT_FAILURE)
    linter = Linter(settings)
    _discover_configurations(linter, config_file)
    try:
        collected = collect_models(linter, list(paths) or [Path(".")])
    except SettingsError as exc:  # a nested configuration that cannot be read
        click.echo(f"peftlint: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
    if list_only:
        names = {n.ref + (f"@{n.revision}" if n.revision else "") + (f":{n.subfolder}" if n.subfolder else "")
                 for n in collected.models}
        click.echo("".join(f"{n}\n" for n in sorted(names)), nl=False)
        return
    counts: dict[str, int] = {}
    failed: list[str] = []
    for named in collected.models:
        s = named.settings  # of the configuration that names it (its aliases)
        options = ResolveOptions(aliases=dict(s.models), config_dir=s.project_root, cache_dir=s.cache_directory())
        got = fetch_config(named.ref, revision=named.revision, subfolder=named.subfolder,
                           base_dirs=named.base_dirs, options=options)
        counts[got.outcome] = counts.get(got.outcome, 0) + 1
        what = named.ref + (f"@{named.revision}" if named.revision else "") + (
            f" ({named.subfolder})" if named.subfolder else "")
        where = named.used_at[0] + (f" and {len(named.used_at) - 1} more" if len(named.used_at) > 1 else "")
        detail = got.detail if got.outcome == "failed" else where
        if got.outcome == "failed":
            failed.append(what)
        click.echo(escape_line(redact(f"{got.outcome:<8} {what}: {detail}")))
    for path in collected.unreadable:
        _err(f"peftlint: {path} could not be read; `peftlint check` reports why")
    summary = ", ".join(f"{counts[k]} {k}" for k in ("fetched", "cached", "bundled", "local", "failed") if k in counts)
    click.echo(f"{len(collected.models)} model{'s' if len(collected.models) != 1 else ''} named in "
               f"{collected.files} file{'s' if collected.files != 1 else ''}" + (f": {summary}" if summary else ""))
    if failed:
        _err(f"peftlint: could not fetch {len(failed)} config.json file{'s' if len(failed) != 1 else ''}: "
             f"{', '.join(failed)}; the configs using {'it' if len(failed) == 1 else 'them'} are not checked "
             "(the lines above say why)")
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
