"""The exceptions mlops-new raises on purpose.

Each carries the exit code the CLI returns for it; the message is one line meant for the user.
Exit codes (documented in docs/cli.md):

    0  success
    1  any other mlops-new error
    3  invalid answer (validator failed, unknown question, unknown choice)
    4  destination problem (is a file, not empty, would overwrite a file)
    5  template problem (missing, not a Copier template, not a git repository, bad ref)
    6  git failed while creating the initial commit
    7  organisation profile cannot be read or is invalid
    8  an answer the profile locks to another value or does not allow
    9  update refused: the project has uncommitted changes
   10  update finished but files remain in conflict
   11  update impossible (not a project, not git, downgrade, migrations not trusted, copier failed)
   12  the dataset cannot be used (missing, unreadable, unsupported format, bad target or columns)
   64  usage error (unknown option, missing argument, no terminal to ask on): EX_USAGE, never 2,
       which `check` uses for "only an update is available"
  130  stopped by the user: Ctrl-C, or `create` declined at its confirmation; nothing written

`mlops-new check` has its own result codes (0 conforms, 1 violation, 2 only an update is
available, 0 for that with --update-ok); its errors (e.g. an invalid profile) use the codes above.
"""

#: Lines of a tool's output that say what went wrong (git, Copier's git calls, uv).
_ERROR_PREFIXES = ("fatal:", "error:")


def one_line(message: object) -> str:
    """A message as one line for the user: the first ``fatal:``/``error:`` line of a tool's
    output when there is one (that is the cause; the lines around it are progress and
    context), else the first non-empty line; the exception's type name when it is empty."""
    lines = [line.strip() for line in str(message).strip().splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith(_ERROR_PREFIXES):
            return line
    return lines[0] if lines else type(message).__name__


#: Why a command that must ask questions cannot, and what to do instead.
NO_TERMINAL = "no terminal to ask questions on: pass --defaults and answer with --data KEY=VALUE"


class MlopsNewError(Exception):
    """Base class: a failure with a one-line message for the user."""

    exit_code = 1


class UsageError(MlopsNewError):
    """The command cannot run as invoked (e.g. it must ask questions but has no terminal)."""

    exit_code = 64


class InvalidAnswerError(MlopsNewError):
    """An answer was refused by its validator, names no question, or is not a valid choice."""

    exit_code = 3


class DestinationError(MlopsNewError):
    """The destination cannot receive the project without losing or overwriting something."""

    exit_code = 4


class TemplateError(MlopsNewError):
    """The template source cannot be used."""

    exit_code = 5


class GitError(MlopsNewError):
    """A git command needed to set up the project failed."""

    exit_code = 6


class ProfileError(MlopsNewError):
    """The organisation profile is missing, not YAML, or does not match its schema."""

    exit_code = 7


class PolicyError(MlopsNewError):
    """An answer contradicts a locked answer of the profile or is not among its allowed values."""

    exit_code = 8


class DirtyTreeError(MlopsNewError):
    """The project has uncommitted changes, so an update could not be told apart from them."""

    exit_code = 9


class UpdateConflict(MlopsNewError):
    """The update finished, but some files hold conflict markers or ``*.rej`` files remain."""

    exit_code = 10


class UpdateError(MlopsNewError):
    """The project cannot be updated (not a project or git repository, downgrade, ...)."""

    exit_code = 11


class DataError(MlopsNewError):
    """The ``dataset`` answer's table cannot be read or get a data contract for its target."""

    exit_code = 12


class Stopped(MlopsNewError):
    """The user stopped the command (Ctrl-C, or no to ``create``'s confirmation)."""

    exit_code = 130
