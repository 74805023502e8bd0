"""The translation port: what the gateway uses of ``translation.service.TranslationService``,
typed with the library's own results, so a reader (and mypy) can follow a turn into
``translation/``. Tests pass smaller stand-ins with the same methods."""
from __future__ import annotations

from typing import Protocol

from translation.langid import Detection
from translation.service import LanguageInfo, ServiceReport, Translation


class TranslationPort(Protocol):
    """Detect a language, translate to and from Swedish, list the languages, fixed lines, and
    report on itself (registry version, English names, verified lines, routes: ``/om-ai``)."""

    def detect(self, text: str, current: str | None = None, explicit: str | None = None) -> Detection: ...
    def to_swedish(self, text: str, lang: str) -> Translation: ...
    def from_swedish(self, text: str, lang: str) -> Translation: ...
    def languages(self) -> list[LanguageInfo]: ...
    def notice(self, key: str, lang: str, *, verified_only: bool = False) -> str | None: ...
    def report(self) -> ServiceReport: ...


def language_info(translator: TranslationPort, code: str) -> LanguageInfo | None:
    """What the translator knows of ``code`` (name, direction, tier), or None."""
    return next((info for info in translator.languages() if info.code == code), None)
