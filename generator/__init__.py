"""mlops-new: generate a complete, working MLOps repository from a Copier template."""

from __future__ import annotations

from functools import cache


@cache
def _installed_version() -> str:
    from importlib import import_module

    try:  # a wheel: hatch_build.py wrote it, whatever the distribution is called
        return str(import_module("generator._version").__version__)
    except ImportError:  # a source tree (an editable install)
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlops-new")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def __getattr__(name: str) -> str:
    # Read on first use: importlib.metadata takes a tenth of a second to import, which
    # `mlops-new --help` need not pay.
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__"]
