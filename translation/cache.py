"""An in-memory LRU cache in front of any `Translator`.

The key is (text, source, target, model revision, glossary version): a new model or a
changed glossary never serves an old translation. A hit is a dict lookup under a lock
(microseconds). The cache holds masked text only: `mask_pii` runs before translation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from translation.engines import TranslationResult, Translator

CacheKey = tuple[str, str, str, str, str]


class CachedTranslator:
    def __init__(
        self,
        inner: Translator,
        revision: str,
        glossary_version: str = "-",
        max_entries: int = 10_000,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries={max_entries} must be at least 1.")
        self.inner = inner
        self.revision = revision
        self.glossary_version = glossary_version
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, TranslationResult] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _key(self, text: str, src: str, tgt: str) -> CacheKey:
        return (text, src, tgt, self.revision, self.glossary_version)

    def get(self, text: str, src: str, tgt: str) -> TranslationResult | None:
        key = self._key(text, src, tgt)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return found

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        results: list[TranslationResult | None] = [self.get(t, src, tgt) for t in texts]
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            fresh = self.inner.translate([texts[i] for i in missing], src, tgt)
            with self._lock:
                self.misses += len(missing)
                for i, result in zip(missing, fresh, strict=True):
                    results[i] = result
                    self._entries[self._key(texts[i], src, tgt)] = result
                    self._entries.move_to_end(self._key(texts[i], src, tgt))
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return [r for r in results if r is not None]
