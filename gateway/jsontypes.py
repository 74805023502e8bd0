"""JSON as the gateway types it, defined once.

A JSON object the gateway builds and only passes on (a response body, a stored basis record,
an event) is a ``dict[str, object]``: the keys are text, the values are not looked into.
JSON read back (stored records, reports on disk, the OpenAPI document, the facts of
``/om-ai``) is a :data:`JsonRead` and is narrowed with :func:`obj`, :func:`objects`,
:func:`values` and :func:`text` before a value is used, so mypy and a reader see every place
that trusts a shape. Shapes the gateway relies on have their own types where they are made
(``conversations.StoredMessage``, ``presenters.MessageJson``, ``basis_export.BasisExport``,
``basis.BasisRecord``, ``staff_schemas``).
"""
from __future__ import annotations

from collections.abc import Mapping

#: A JSON object read back, to be narrowed before use.
JsonRead = Mapping[str, object]


def obj(value: object) -> JsonRead:
    """``value`` when it is a JSON object, else an empty one (what ``value or {}`` meant)."""
    return value if isinstance(value, Mapping) else {}


def objects(value: object) -> list[JsonRead]:
    """The JSON objects in ``value`` when it is a list (other items left out), else none."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def values(value: object) -> list[object]:
    """The items of ``value`` when it is a JSON list, else none."""
    return list(value) if isinstance(value, list) else []


def text(value: object) -> str | None:
    """``value`` as text, None as None (a JSON string read back, or a row's text column)."""
    return None if value is None else str(value)
