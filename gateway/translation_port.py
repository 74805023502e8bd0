"""The translation port: what the gateway uses of ``translation.service.TranslationService``,
typed with the library's own results, so a reader (and mypy) can follow a turn into
``translation/``. Tests pass smaller stand-ins with the same methods.

:class:`TimedTranslator` is the same port with each detection and translation timed (for the
turn's stage latencies in ``gateway/metrics.py``)."""
from __future__ import annotations

import time
from collections.abc import Callable
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


class TimedTranslator:
    """``inner`` with ``observe("detection" | "translation", seconds)`` after each call and
    ``failed()`` after a translation that could not be made (``Translation.ok`` false)."""

    def __init__(self, inner: TranslationPort, observe: Callable[[str, float], None],
                 failed: Callable[[], None]) -> None:
        self.inner = inner
        self._observe = observe
        self._failed = failed

    def detect(self, text: str, current: str | None = None, explicit: str | None = None) -> Detection:
        started = time.perf_counter()
        try:
            return self.inner.detect(text, current, explicit)
        finally:
            self._observe("detection", time.perf_counter() - started)

    def to_swedish(self, text: str, lang: str) -> Translation:
        return self._timed(self.inner.to_swedish, text, lang)

    def from_swedish(self, text: str, lang: str) -> Translation:
        return self._timed(self.inner.from_swedish, text, lang)

    def _timed(self, translate: Callable[[str, str], Translation], text: str, lang: str) -> Translation:
        started = time.perf_counter()
        try:
            result = translate(text, lang)
        finally:
            self._observe("translation", time.perf_counter() - started)
        if not result.ok:
            self._failed()
        return result

    def languages(self) -> list[LanguageInfo]:
        return self.inner.languages()

    def notice(self, key: str, lang: str, *, verified_only: bool = False) -> str | None:
        return self.inner.notice(key, lang, verified_only=verified_only)

    def report(self) -> ServiceReport:
        return self.inner.report()
