"""Every git command mlops-new runs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from generator.errors import one_line


def git(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``git -C cwd ARGS`` and return the result; with ``check``, a failure raises
    :class:`OSError` with git's message on one line."""
    result = subprocess.run(
        ["git", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        check=False,
        env=dict(env) if env is not None else no_prompt_env(),
    )
    if check and result.returncode != 0:
        raise OSError(one_line(result.stderr or result.stdout or f"git {args[0]} failed"))
    return result


def no_prompt_env() -> dict[str, str]:
    """The environment for git: never wait for a password on a terminal nobody watches."""
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


def is_work_tree(path: Path) -> bool:
    """True inside a git work tree (the folder itself or a subfolder of one)."""
    result = git(path, "rev-parse", "--is-inside-work-tree")
    return result.returncode == 0 and result.stdout.strip() == "true"


def toplevel(path: Path) -> Path | None:
    """The root of the work tree ``path`` is in, or None outside git."""
    result = git(path, "rev-parse", "--show-toplevel")
    return Path(result.stdout.strip()).resolve() if result.returncode == 0 else None


def has_commit(path: Path) -> bool:
    return git(path, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0


def config_variables(
    pairs: Sequence[tuple[str, str]], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment variables that give the git processes started with them the extra
    configuration ``pairs`` (key, value), after any ``GIT_CONFIG_KEY_n`` already in ``environ``
    (default: this process's). Git 2.31 or later reads them; nothing is written to a git
    configuration file."""
    environ = os.environ if environ is None else environ
    start = int(environ.get("GIT_CONFIG_COUNT") or 0)
    variables = {"GIT_CONFIG_COUNT": str(start + len(pairs))}
    for index, (key, value) in enumerate(pairs, start):
        variables[f"GIT_CONFIG_KEY_{index}"] = key
        variables[f"GIT_CONFIG_VALUE_{index}"] = value
    return variables


def remote_tags(source: str, extra_env: Mapping[str, str] | None = None) -> list[str]:
    """Tag names of a repository (path or URL), without listing anything else; ``extra_env``
    is added to git's environment. Raises :class:`OSError` when it cannot be listed."""
    env = {**no_prompt_env(), **(extra_env or {})}
    result = git(Path.cwd(), "ls-remote", "--tags", "--refs", source, env=env, check=True)
    tags = []
    for line in result.stdout.splitlines():
        _, _, ref = line.partition("\trefs/tags/")
        if ref:
            tags.append(ref)
    return tags


def init_and_commit(
    root: Path, files: tuple[str, ...], message: str, *, author: tuple[str, str]
) -> str:
    """Make ``root`` a git repository whose first commit on ``main`` holds ``files``; return its
    hash. ``author`` (name, e-mail) is used when neither the environment nor git's own
    configuration names one. Raises :class:`OSError` with git's message."""
    git(root, "init", "--quiet", "--initial-branch=main", check=True)
    # Inside the new repository git reads only the user's and the system's configuration.
    name = git(root, "config", "--get", "user.name").stdout.strip()
    email = git(root, "config", "--get", "user.email").stdout.strip()
    env = no_prompt_env()
    env["GIT_AUTHOR_NAME"] = env.get("GIT_AUTHOR_NAME") or name or author[0]
    env["GIT_AUTHOR_EMAIL"] = env.get("GIT_AUTHOR_EMAIL") or email or author[1]
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    git(root, "add", "--", *files, env=env, check=True)
    commit = ("commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message)
    git(root, *commit, env=env, check=True)
    return git(root, "rev-parse", "HEAD", env=env, check=True).stdout.strip()
