"""The exceptions mlops-new raises on purpose.

Each carries the exit code the CLI returns for it; the message is one line meant for the user.
Exit codes (documented in docs/cli.md):

    0  success
    1  any other mlops-new error
    2  usage error (unknown option, malformed --data) — raised by the CLI parser
    3  invalid answer (validator failed, unknown question, unknown choice)
    4  destination problem (is a file, not empty, would overwrite a file)
    5  template problem (missing, not a Copier template, not a git repository, bad ref)
    6  git failed while creating the initial commit
"""


class MlopsNewError(Exception):
    """Base class: a failure with a one-line message for the user."""

    exit_code = 1


class UsageError(MlopsNewError):
    """The command cannot run as invoked (e.g. it must ask questions but has no terminal)."""

    exit_code = 2


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
