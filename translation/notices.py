"""Fixed notices in every offered language (translation/notices.yml).

Each line carries ``verified``; none is verified yet, and `Notice.verified` lets the
gateway or the About-AI page show that. Text is read when `Notices.load` is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from translation.errors import RegistryError, TranslationError

DEFAULT_NOTICES = Path(__file__).with_name("notices.yml")
KEYS = ("machine_translated", "no_translation", "write_sv_en")


@dataclass(frozen=True)
class Notice:
    text: str
    verified: bool


@dataclass(frozen=True)
class Notices:
    entries: Mapping[str, Mapping[str, Notice]]

    @classmethod
    def load(cls, path: Path | None = None) -> Notices:
        path = path or DEFAULT_NOTICES
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise RegistryError(
                f"Notices file {str(path)!r} cannot be read ({exc.strerror}). "
                "Use translation/notices.yml or pass an existing file."
            ) from exc
        entries = {
            key: {
                lang: Notice(str(item["text"]), bool(item.get("verified", False)))
                for lang, item in (langs or {}).items()
            }
            for key, langs in (data.get("notices") or {}).items()
        }
        return cls(entries)

    def get(self, key: str, lang: str) -> str | None:
        """The notice in `lang`, or None if it has not been written in that language."""
        found = self.notice(key, lang)
        return found.text if found else None

    def notice(self, key: str, lang: str) -> Notice | None:
        if key not in self.entries:
            raise TranslationError(
                f"Notice {key!r} is not defined. Defined: {', '.join(self.entries)}. "
                "Add it to translation/notices.yml."
            )
        return self.entries[key].get(lang)
