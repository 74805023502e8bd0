"""Citizen-facing texts the gateway itself writes: the prose in ``gateway/copy/*.yml``
(Swedish and English, by people), the native languages, and who stands behind the texts.

Other languages get these under one rule, applied in one place (``citizen_copy.CitizenCopy``).
The files are read on first use, never at import time.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

#: The languages we write ourselves and Rasa answers in without translation.
NATIVE: tuple[str, ...] = ("sv", "en")

COPY_DIR = Path(__file__).resolve().parent / "copy"

#: Who stands behind the texts, in the keys of an answer's source (docs/topic-format.md):
#: written by the project team, not yet owned or reviewed by anyone at the municipality.
#: Change ``owner`` / ``reviewed_by`` only when that person has signed.
SIGNED: dict[str, str | None] = {
    "author": "Projektgruppen för AI-assistenten",
    "checked": None,
    "owner": None,
    "reviewed_by": None,
    "reviewed": None,
}

ABOUT_SOURCE: dict[str, object] = {"title": "Om AI-assistenten", "url": "/om-ai", **SIGNED}


class CopyError(Exception):
    """A copy file is missing a key or a language; the message names the file and the fix."""


@cache
def entries() -> dict[str, dict[str, str]]:
    """Every text of ``gateway/copy/*.yml`` by key, each in ``sv`` and ``en``."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(COPY_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, entry in data.items():
            if not isinstance(entry, dict) or set(NATIVE) - set(entry):
                raise CopyError(f"Text '{key}' in {path.name} needs both 'sv' and 'en'. Add the missing line.")
            if key in found:
                raise CopyError(f"Text '{key}' is defined twice (again in {path.name}). Keep one.")
            found[str(key)] = {str(lang): str(line) for lang, line in entry.items()}
    return found


def text(key: str, language: str, **values: str) -> str:
    """The text ``key`` as written in ``language`` (Swedish for a language we do not write),
    with ``values`` filled in."""
    entry = entries().get(key)
    if entry is None:
        raise CopyError(f"Text '{key}' does not exist. Known: {', '.join(sorted(entries()))}.")
    return (entry.get(language) or entry["sv"]).format(**values)
