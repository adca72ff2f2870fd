"""Answers as people type them, parsed before anything else happens: ``--data KEY=VALUE`` and the
forms of a multi-select answer (``batch``, ``batch,edge``, ``batch, edge``, ``[batch, edge]``;
Copier itself takes only a YAML list). Imports nothing but PyYAML: loading a profile or parsing
the command line does not import Copier."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from generator.errors import InvalidAnswerError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def parse_data(items: Iterable[str]) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` options; the last value of a key wins."""
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise InvalidAnswerError(
                f"--data expects KEY=VALUE with a question name as KEY, got {item!r}"
            )
        data[key] = value
    return data


def normalise_multiselect(questions: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each answer to a multi-select question given as text turned into a list
    (:func:`split_choices`)."""
    normalised = dict(data)
    for key, value in data.items():
        details = questions.get(key)
        if isinstance(details, Mapping) and details.get("multiselect") and isinstance(value, str):
            normalised[key] = split_choices(key, value)
    return normalised


def split_choices(key: str, text: str) -> list[Any]:
    """The choices of a multi-select answer typed as text: ``batch`` -> ``[batch]``, ``batch,edge``
    or ``batch, edge`` -> ``[batch, edge]``, and ``[batch, edge]`` parsed as YAML; a malformed
    list raises :class:`InvalidAnswerError`."""
    if not text.lstrip().startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, list):
        raise InvalidAnswerError(
            f"{key}: {text!r} is not a list; write a, b or [a, b] (choices of a multi-select)"
        )
    return parsed
