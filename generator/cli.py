"""The `mlops-new` command line: parse arguments, call the library, turn results into exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from generator import __version__
from generator.errors import MlopsNewError, UsageError

app = typer.Typer(
    name="mlops-new",
    help="Generate a complete, working MLOps repository and keep it in step with its template.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEBUG_ENV = "MLOPS_NEW_DEBUG"


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
        raise typer.Exit(130) from None
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
    data: Annotated[
        list[str] | None,
        typer.Option("--data", "-d", metavar="KEY=VALUE", help="Answer a question (repeatable)."),
    ] = None,
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
) -> None:
    """Create a new project from the template."""
    # Imported here so that `--version` and `--help` do not pay for importing Copier.
    from generator._create import create as create_project
    from generator._create import parse_data

    with _user_errors():
        answers = parse_data(data or [])
        if not defaults and not sys.stdin.isatty():
            raise UsageError(
                "no terminal to ask questions on: pass --defaults and answer with --data KEY=VALUE"
            )
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
        )
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    ref = result.template_commit or "untagged"
    typer.echo(f"Created {len(result.files)} files from {result.template.src} at {ref}")
    if result.git_commit:
        typer.echo(f"Initial commit {result.git_commit[:12]} on branch main")
    elif git:
        typer.echo("Added to an existing git repository: review and commit the new files")
    else:
        typer.echo("No git repository made (--no-git): run 'git init' and commit before updating")
    typer.echo(f"Next: cd {destination} && make ci")


def main() -> None:
    """Console-script entry point."""
    app()
