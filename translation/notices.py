"""Fixed notices in every offered language (translation/notices.yml).

Each line carries ``verified``: true only once a human translator has checked it. The
gateway shows a verified line as it is and an unverified one labelled as machine
translation, with the Swedish and English text beside it (``gateway/turn.py``,
``TurnService._localised``); the About-AI page counts them. Text is read when
`Notices.load` is called.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from translation.errors import RegistryError, TranslationError

DEFAULT_NOTICES = Path(__file__).with_name("notices.yml")
#: Keys every offered language has a line for (others, such as ``welcome``, are optional).
KEYS = ("machine_translated", "answer_in_sv_en", "no_translation", "write_sv_en")


@dataclass(frozen=True)
class Notice:
    text: str
    verified: bool


@dataclass(frozen=True)
class Notices:
    entries: Mapping[str, Mapping[str, Notice]]
    version: str = ""

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
        return cls(entries, str(data.get("version") or ""))

    def verified_counts(self) -> dict[str, tuple[int, int]]:
        """Per language: (verified lines, all lines), over every key."""
        counts: dict[str, tuple[int, int]] = {}
        for langs in self.entries.values():
            for lang, notice in langs.items():
                done, total = counts.get(lang, (0, 0))
                counts[lang] = (done + notice.verified, total + 1)
        return counts

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
