"""JSON as the gateway types it, defined once.

A JSON object the gateway builds and only passes on (to a response, a log record, a stored
basis record) is a ``dict[str, object]``: the keys are known to be text, the values are not
looked into. JSON read back (stored records, reports on disk, Rasa's replies) is a
``Mapping[str, object]`` and is narrowed with :func:`obj`, :func:`objects` and
:func:`number` before a value is used, so mypy and a reader see every place that trusts a
shape.
"""
from __future__ import annotations

from collections.abc import Mapping

JsonObject = dict[str, object]
JsonRead = Mapping[str, object]


def obj(value: object) -> JsonRead:
    """``value`` when it is a JSON object, else an empty one (what ``value or {}`` meant)."""
    return value if isinstance(value, Mapping) else {}


def objects(value: object) -> list[JsonRead]:
    """The JSON objects in ``value`` when it is a list (other items left out), else none."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def number(value: object) -> float | None:
    """``value`` as a float when it is a JSON number, else None."""
    return float(value) if isinstance(value, int | float) else None


def text(value: object) -> str | None:
    """``value`` as text, None as None (a JSON string read back, or a row's text column)."""
    return None if value is None else str(value)


def values(value: object) -> list[object]:
    """The items of ``value`` when it is a JSON list, else none."""
    return list(value) if isinstance(value, list) else []
