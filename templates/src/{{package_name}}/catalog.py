"""The project's entry in the organisation's software catalog: ``catalog-info.yaml`` (Backstage).

The template wrote the entry: the service (a Component), its prediction API, the model and the
prediction store (Resources), who owns them, their lifecycle and links. The team edits those
parts freely. ``make catalog`` fills in what only the code and the model know: the API's OpenAPI
document, and the model's version, task, target, features and data contract (the
``mlops-new.io/`` annotations of the ``ml-model`` Resource); ``make ct`` runs it, so continuous
training proposes the entry of its new model with the model card.

``make ci`` runs ``catalog --check``: it fails while the committed entry describes another API or
data contract than the project's, and writes the entry the first time (the template cannot know
the OpenAPI document). A retrained model always gets a new version (its training time is part of
it), so the model's version and training time are left out of the comparison: the entry records
the version of its last ``make catalog``.

This module needs only PyYAML and imports nothing from the package until it needs the service's
OpenAPI document, so it can also be loaded on its own by path.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATALOG_FILE = Path("catalog-info.yaml")
PREFIX = "mlops-new.io/"
#: Annotations of one training run: written by ``make catalog``, never compared.
RUN_ANNOTATIONS = ("model-version", "trained-at")
#: Annotations that a clean checkout reproduces: compared by ``catalog --check``.
CHECKED_ANNOTATIONS = ("task", "target", "features", "contract-sha256")


@dataclass(frozen=True)
class Entry:
    """A catalog file: its leading comment and its entities, in order."""

    header: str
    documents: list[dict[str, Any]]


class _Dumper(yaml.SafeDumper):
    """Block style, sequences indented under their key, every string value double-quoted (as
    the template writes them) and multi-line text as a literal block."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else '"'
    )


def _mapping(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.MappingNode:
    node = dumper.represent_mapping("tag:yaml.org,2002:map", value.items())
    for key, _ in node.value:
        key.style = None  # keys plain
    return node


_Dumper.add_representer(str, _string)
_Dumper.add_representer(dict, _mapping)


def parse(text: str) -> Entry:
    """The entry in ``text``; a ValueError names what is wrong with it."""
    header = "".join(line for line in _lead(text) if line.startswith("#"))
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise ValueError(f"{CATALOG_FILE} is not valid YAML: {exc}") from None
    for doc in documents:
        if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
            raise ValueError(f"{CATALOG_FILE}: every document must be an entity with metadata")
    return Entry(header, documents)


def _lead(text: str) -> list[str]:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            break
        lines.append(line)
    return lines


def read(path: Path = CATALOG_FILE) -> Entry:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: restore it from git history (`git checkout HEAD -- {path}`)"
            " or from the template (`mlops-new update`), then run `make catalog`"
        ) from None


def dump(entry: Entry) -> str:
    body = yaml.dump_all(
        entry.documents,
        Dumper=_Dumper,
        explicit_start=True,
        sort_keys=False,
        allow_unicode=True,
        width=4096,
    )
    return entry.header + body


def _entity(entry: Entry, kind: str, kind_type: str) -> dict[str, Any] | None:
    for doc in entry.documents:
        spec = doc.get("spec") or {}
        if doc.get("kind") == kind and isinstance(spec, dict) and spec.get("type") == kind_type:
            return doc
    return None


def _model(entry: Entry) -> dict[str, Any]:
    model = _entity(entry, "Resource", "ml-model")
    if model is None:
        raise ValueError(f"{CATALOG_FILE} has no Resource of type ml-model: restore the model's")
    return model


def has_api(entry: Entry) -> bool:
    """Whether the entry describes an OpenAPI API (the model service's)."""
    return _entity(entry, "API", "openapi") is not None


def generated(entry: Entry) -> bool:
    """Whether ``make catalog`` has written the entry (the template's has no data contract yet)."""
    annotations = _model(entry)["metadata"].get("annotations") or {}
    return f"{PREFIX}contract-sha256" in annotations


def openapi_document() -> dict[str, Any]:
    """The model service's OpenAPI document, as it serves it."""
    name = f"{__package__}.service"
    try:
        service = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(f"{exc.name}.")):
            raise  # the service's own imports failed
        raise ValueError(
            f"{CATALOG_FILE} describes an API, but this project has no model service ({name});"
            " remove the API entity and the Component's providesApis"
        ) from None
    return dict(service.app.openapi())


def refresh(entry: Entry, model: Mapping[str, Any], openapi: Mapping[str, Any] | None) -> Entry:
    """The entry with the model's annotations from ``model`` (its ``model.json``) and, when it
    has an API entity, that API's definition from ``openapi``."""
    fresh = Entry(entry.header, copy.deepcopy(entry.documents))
    metadata = _model(fresh)["metadata"]
    annotations = dict(metadata.get("annotations") or {})
    annotations.update(
        {
            f"{PREFIX}model-version": str(model["model_version"]),
            f"{PREFIX}trained-at": str(model["created_at"]),
            f"{PREFIX}task": str(model["problem_type"]),
            f"{PREFIX}target": str(model["target"]),
            f"{PREFIX}features": ", ".join(map(str, model["features"])),
            f"{PREFIX}contract-sha256": str(model["contract_sha256"]),
        }
    )
    metadata["annotations"] = annotations
    api = _entity(fresh, "API", "openapi")
    if api is not None:
        if openapi is None:
            raise ValueError(f"{CATALOG_FILE} describes an API: its OpenAPI document is needed")
        api["spec"]["definition"] = json.dumps(openapi, indent=2, ensure_ascii=False) + "\n"
    return fresh


def differences(committed: Entry, current: Entry) -> list[str]:
    """What ``committed`` says differently from ``current`` about the API and the model, one
    line each; the model's version and training time are not compared."""
    found = []
    mine = _model(committed)["metadata"].get("annotations") or {}
    theirs = _model(current)["metadata"]["annotations"]
    for name in CHECKED_ANNOTATIONS:
        key = f"{PREFIX}{name}"
        if mine.get(key) != theirs[key]:
            found.append(f"the model's {name} is {theirs[key]!r}, the entry says {mine.get(key)!r}")
    api, fresh = _entity(committed, "API", "openapi"), _entity(current, "API", "openapi")
    if api is not None and fresh is not None:
        found += _api_differences(
            str(api["spec"].get("definition", "")), fresh["spec"]["definition"]
        )
    return found


def _api_differences(committed: str, current: str) -> list[str]:
    try:
        old = yaml.safe_load(committed)
    except yaml.YAMLError:
        old = None
    new = json.loads(current)
    if old == new:
        return []
    if not isinstance(old, dict):
        return ["the API's definition is not an OpenAPI document"]
    found = []
    for part, label in (("paths", "paths"), ("components", "schemas")):
        before, after = _names(old, part), _names(new, part)
        changes = [f"added {name}" for name in sorted(after - before)]
        changes += [f"removed {name}" for name in sorted(before - after)]
        if changes:
            found.append(f"the API's {label} changed: {', '.join(changes)}")
    return found or ["the API's OpenAPI document changed (its paths and schemas are the same)"]


def _names(document: Mapping[str, Any], part: str) -> set[str]:
    section = document.get(part) or {}
    if part == "components":
        section = section.get("schemas") or {} if isinstance(section, dict) else {}
    return set(section) if isinstance(section, dict) else set()
