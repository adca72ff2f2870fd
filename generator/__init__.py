"""mlops-new: generate a complete, working MLOps repository from a Copier template."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlops-new")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["__version__"]
