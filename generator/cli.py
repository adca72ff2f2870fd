"""The `mlops-new` command line: parse arguments, call the library, turn results into exit codes."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from generator.errors import NO_TERMINAL, MlopsNewError, Stopped, UpdateConflict, UsageError

if TYPE_CHECKING:
    from generator._data import ImportedData
    from generator._update import UpdateResult


class _Commands(TyperGroup):
    """The command group, whose usage errors (an unknown option, a missing argument) exit with
    :attr:`UsageError.exit_code` (64, EX_USAGE), not click's 2: ``mlops-new check`` answers 2
    for "only an update is available", so a mistyped option must never look like that."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        with _usage_exit_code():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _usage_exit_code():
            return super().invoke(ctx)


#: click's UsageError, as the installed typer uses it (recent typer releases vendor click).
_CLICK_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


@contextmanager
def _usage_exit_code() -> Iterator[None]:
    try:
        yield
    except _CLICK_USAGE_ERROR as exc:
        exc.exit_code = UsageError.exit_code  # type: ignore[attr-defined]
        raise


app = typer.Typer(
    name="mlops-new",
    cls=_Commands,
    help="Generate a complete, working MLOps repository and keep it in step with its template.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help and errors: rich's formatting costs `--help` a fifth of a second to import.
    rich_markup_mode=None,
)

DEBUG_ENV = "MLOPS_NEW_DEBUG"

ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        metavar="FILE",
        help="Organisation profile (default: $MLOPS_NEW_PROFILE, else the project's"
        " .mlops-new/profile.yml).",
    ),
]
DataOption = Annotated[
    list[str] | None,
    typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
]


class ConflictMode(StrEnum):
    inline = "inline"
    rej = "rej"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a failure as one line on stderr and exit with its documented code."""
    try:
        yield
    except MlopsNewError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted; nothing was written", err=True)
        raise typer.Exit(Stopped.exit_code) from None
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for a traceback)",
            err=True,
        )
        raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        from generator import __version__

        typer.echo(f"mlops-new {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Generate a complete, working MLOps repository and keep it in step with its template."""


@app.command()
def create(
    destination: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use default answers instead of asking.")
    ] = False,
    data: DataOption = None,
    template: Annotated[
        str | None,
        typer.Option(help="Template path or git URL (default: mlops-new's own template)."),
    ] = None,
    vcs_ref: Annotated[
        str | None, typer.Option("--vcs-ref", help="Template git tag, branch or commit.")
    ] = None,
    git: Annotated[
        bool, typer.Option("--git/--no-git", help="Make the project a git repository.")
    ] = True,
    existing_dir: Annotated[
        bool,
        typer.Option(
            "--existing-dir",
            help="Allow a non-empty destination; existing files are never overwritten.",
        ),
    ] = False,
    trust: Annotated[
        bool, typer.Option("--trust", help="Allow a template's tasks and Jinja extensions.")
    ] = False,
    profile: ProfileOption = None,
) -> None:
    """Create a new project from the template."""
    # Imported here so that `--version` and `--help` do not pay for importing Copier.
    from generator._answers import parse_data
    from generator._create import create as create_project
    from generator._profile import find_profile

    with _user_errors():
        answers = parse_data(data or [])
        loaded = find_profile(profile)
        if not defaults and not sys.stdin.isatty():
            raise UsageError(NO_TERMINAL)
        typer.echo(f"Creating {destination} ...")
        result = create_project(
            destination,
            template=template,
            vcs_ref=vcs_ref,
            data=answers,
            defaults=defaults,
            git=git,
            existing_dir=existing_dir,
            trust=trust,
            profile=loaded,
            confirm=lambda imported: _confirm_contract(imported, ask=not defaults),
        )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    ref = result.template_commit or "untagged"
    typer.echo(f"Created {len(result.files)} files from {result.template.src} at {ref}")
    if result.imported is not None:
        imported = result.imported
        typer.echo(
            f"Data contract {imported.contract}: {imported.task}, {imported.rows} rows,"
            f" {len(imported.features)} features, {len(imported.dropped)} columns dropped;"
            " review it"
        )
    if result.git_commit:
        typer.echo(f"Initial commit {result.git_commit[:12]} on branch main")
    elif git:
        typer.echo("Added to an existing git repository: review and commit the new files")
    else:
        typer.echo("No git repository made (--no-git): run 'git init' and commit before updating")
    if loaded is not None:
        typer.echo(f"Applied profile {loaded.path} (recorded in .mlops-new/profile.yml)")
    typer.echo(f"Next: cd {destination} && make ci")


def _confirm_contract(imported: ImportedData, *, ask: bool) -> bool:
    """Print what was inferred from the user's table; when ``ask``, whether to go on."""
    for line in contract_summary(imported):
        typer.echo(line)
    if not ask:
        return True
    try:
        return typer.confirm("Create the project with this data contract?", default=True)
    except typer.Abort:  # Ctrl-C or end of input at the question
        return False


def contract_summary(imported: ImportedData, width: int = 100) -> list[str]:
    """What was inferred from the table, for people: the target's task and labels or range, the
    features kept with their kinds, the columns dropped with the reason, the warnings."""
    if imported.observed is not None:
        low, high = imported.observed
        target = f"{imported.target}: {imported.task}, observed {low} to {high}"
    else:
        positive = f" (positive: {imported.positive})" if imported.positive is not None else ""
        labels = ", ".join(map(str, imported.labels))
        target = f"{imported.target}: {imported.task}, labels {labels}{positive}"
    kept = ", ".join(f"{name} ({kind})" for name, kind in imported.features.items())
    rows: list[tuple[str, str]] = [
        ("target", target),
        ("features", f"{len(imported.features)} kept: {kept}"),
        *(("dropped", f"{name}: {why}") for name, why in imported.dropped.items()),
        *(("warning", warning) for warning in imported.warnings),
    ]
    lines = [f"Data contract inferred from {imported.source} ({imported.rows} rows):"]
    for label, text in rows:
        lines += textwrap.wrap(
            text,
            width,
            initial_indent=f"  {label:<9} ",
            subsequent_indent=" " * 12,
            break_on_hyphens=False,
        )
    return lines


@app.command()
def update(
    path: Annotated[Path, typer.Argument(help="Project to update.")] = Path(),
    vcs_ref: Annotated[
        str | None,
        typer.Option("--vcs-ref", help="Template tag, branch or commit (default: latest tag)."),
    ] = None,
    data: DataOption = None,
    conflict: Annotated[
        ConflictMode,
        typer.Option(
            "--conflict",
            help="Conflicts as markers in the file (inline) or as .rej files beside it (rej).",
        ),
    ] = ConflictMode.inline,
    profile: ProfileOption = None,
    trust: Annotated[
        bool,
        typer.Option("--trust", help="Allow the template's migrations, tasks and extensions."),
    ] = False,
) -> None:
    """Update a project to a newer template version (or change its answers)."""
    from generator._answers import parse_data
    from generator._profile import find_profile
    from generator._update import update as update_project

    with _user_errors():
        answers = parse_data(data or [])
        loaded = find_profile(profile, path.expanduser().absolute())
        result = update_project(
            path,
            vcs_ref=vcs_ref,
            data=answers,
            conflict=conflict.value,
            profile=loaded,
            trust=trust,
        )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    _print_update(result)
    if result.has_conflicts:
        count = len(result.conflicts) + len(result.rejects)
        how = "resolve the conflict markers" if result.conflicts else "apply the .rej hunks by hand"
        typer.echo(
            f"error: {count} file(s) in conflict; {how}, then `git add` and commit",
            err=True,
        )
        raise typer.Exit(UpdateConflict.exit_code)


def _print_update(result: UpdateResult) -> None:
    if result.up_to_date:
        typer.echo(f"Already at {result.from_ref}, the latest template version: nothing to do")
        return
    if result.from_ref == result.to_ref:
        typer.echo(f"Re-rendered template {result.to_ref} with the new answers")
    else:
        typer.echo(f"Updated from template {result.from_ref} to {result.to_ref}")
    typer.echo(
        f"  {len(result.changed)} changed, {len(result.added)} added,"
        f" {len(result.removed)} removed, {len(result.conflicts) + len(result.rejects)} in conflict"
    )
    rows = [
        *(("changed", p) for p in result.changed),
        *(("added", p) for p in result.added),
        *(("removed", p) for p in result.removed),
        *(("renamed", f"{old} -> {new}") for old, new in result.renamed),
        *(("conflict", p) for p in result.conflicts),
        *(("rejected", p) for p in result.rejects),
    ]
    for label, name in rows:
        typer.echo(f"  {label:<9} {name}")
    if not result.has_conflicts:
        typer.echo("Review with `git diff`, then commit; nothing was committed for you")


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="Project to check.")] = Path(),
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for tools.")
    ] = OutputFormat.text,
    profile: ProfileOption = None,
    trust: Annotated[
        bool,
        typer.Option("--trust", help="Allow the template's Jinja extensions in the fresh render."),
    ] = False,
    update_ok: Annotated[
        bool,
        typer.Option(
            "--update-ok",
            help="Exit 0 when only an update is available (CI's conformance step: template-sync"
            " brings updates).",
        ),
    ] = False,
) -> None:
    """Check a project against its template and profile: exit 0 conforms, 1 violation,
    2 only an update is available (0 with --update-ok)."""
    from generator._check import check as check_project
    from generator._profile import find_profile

    with _user_errors():
        loaded = find_profile(profile, path.expanduser().absolute())
        report = check_project(path, profile=loaded, trust=trust)
    if output is OutputFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for finding in report.findings:
            typer.echo(f"{finding.severity:<9} {finding.kind:<19} {finding.message}")
        version = report.current or "unknown"
        latest = f", latest {report.latest}" if report.latest else ""
        where = f", profile {report.profile}" if report.profile else ", no profile"
        typer.echo(f"{report.status} (template {version}{latest}{where})")
    raise typer.Exit(0 if update_ok and report.status == "update-available" else report.exit_code)


def main() -> None:
    """Console-script entry point."""
    app()
