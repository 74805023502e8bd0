"""`TranslationService`: the one object the gateway uses.

It composes the registry, the engines, the cache, placeholder protection, the quality gate,
the language detector and the notices. Text given to it must already be masked
(`translation.masking.mask_pii`). It never downloads: a language whose model files are not
on disk reports ``available=False`` and its translations come back with
``ok=False, reason="no_model"`` and the original text, so the caller can fall back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from translation.cache import CachedTranslator
from translation.engines import (
    CTranslate2Translator,
    MarianTranslator,
    PivotTranslator,
    TranslationResult,
    Translator,
)
from translation.errors import ModelNotAvailableError, PlaceholderError
from translation.langid import (
    ChatLanguageDetector,
    Detection,
    LanguageDetector,
    normalise_code,
    served,
)
from translation.notices import Notices
from translation.protect import Glossary, Protector, join_sentences, split_sentences
from translation.quality import QualityGate
from translation.registry import Hop, ModelRegistry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageInfo:
    code: str
    name: str  # in the language itself
    dir: str  # "ltr" | "rtl"
    tier: str  # "good" | "poor"
    available: bool  # can translate both ways now (always True for sv)
    native: bool  # sv/en: answered by Rasa without translation


class RouteStatus(TypedDict):
    """One translation route (``status``): a language pair, its models and whether it runs now."""

    source: str
    target: str
    model: str
    engine: str
    revision: str
    tier: str
    available: bool
    loaded: bool


@dataclass(frozen=True)
class ServiceReport:
    """What the service says about itself for people (the gateway's About-AI page): the
    registry's version, each language's English name, the fixed lines per language as
    (verified by a translator, written), and every translation route."""

    registry_version: str
    english_names: dict[str, str]
    verified_notices: dict[str, tuple[int, int]]
    routes: list[RouteStatus]


@dataclass(frozen=True)
class Translation:
    """A translation or a refusal. When ok is False, `text` is the input unchanged."""

    text: str
    ok: bool
    engine: str
    model: str
    revision: str
    score: float | None
    reason: str | None  # why it was rejected: no_model, unsupported_language, placeholder_lost, ...
    source_lang: str
    target_lang: str
    tier: str = "good"
    latency_ms: float = 0.0


class _Route:
    """One direction for one language: its hops and a cached translator (built lazily)."""

    def __init__(self, service: TranslationService, hops: tuple[Hop, ...]) -> None:
        self.hops = hops
        self.service = service
        self._translator: CachedTranslator | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return bool(self.hops) and all(
            self.service.registry.models[h.model].available_engine() for h in self.hops
        )

    def translator(self) -> CachedTranslator:
        with self._lock:
            if self._translator is None:
                engines = [self.service.engine_for(h) for h in self.hops]
                inner: Translator = (
                    engines[0] if len(engines) == 1 else PivotTranslator(engines[0], engines[1])
                )
                revision = " + ".join(
                    self.service.registry.models[h.model].resolved_revision() for h in self.hops
                )
                self._translator = CachedTranslator(
                    inner, revision, self.service.glossary.version, self.service.cache_size
                )
            return self._translator


class TranslationService:
    def __init__(
        self,
        registry: ModelRegistry,
        glossary: Glossary | None = None,
        detector: LanguageDetector | None = None,
        notices: Notices | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.registry = registry
        self.glossary = glossary or Glossary.load()
        self.detector: LanguageDetector = detector or ChatLanguageDetector(
            neutral_terms=self.glossary.language_neutral
        )
        self.notices = notices or Notices.load()
        self.cache_size = cache_size
        self.protector = Protector(self.glossary)
        self.gate = QualityGate(registry.quality, self.detector)
        self._engines: dict[Hop, Translator] = {}
        self._engine_lock = threading.Lock()
        self._routes: dict[tuple[str, str], _Route] = {}
        self._languages: list[LanguageInfo] | None = None
        for code, spec in registry.languages.items():
            self._routes[(code, "sv")] = _Route(self, spec.to_sv)
            self._routes[("sv", code)] = _Route(self, spec.from_sv)
        self._results: OrderedDict[tuple[str, str, str], Translation] = OrderedDict()
        self._results_lock = threading.Lock()

    @classmethod
    def from_config(
        cls, models_dir: Path, registry_path: Path | None = None, *, preload: bool = False
    ) -> TranslationService:
        """Read the registry; models found under `models_dir` load on first use (or now,
        with preload=True). Never downloads anything."""
        service = cls(ModelRegistry.load(registry_path, models_dir=models_dir))
        available = [c for c in service.registry.languages if service._available(c)]
        logger.info("translation: %d languages available: %s", len(available), ",".join(available))
        if preload:
            for route in service._routes.values():
                if route.available:
                    for hop in route.hops:
                        engine = service.engine_for(hop)
                        if isinstance(engine, (MarianTranslator, CTranslate2Translator)):
                            engine.ensure_loaded()
        return service

    # -- engines ---------------------------------------------------------------------------
    def engine_for(self, hop: Hop) -> Translator:
        with self._engine_lock:
            if hop not in self._engines:
                spec = self.registry.models[hop.model]
                engine = spec.available_engine()
                revision = spec.resolved_revision()
                if engine == "ct2":
                    self._engines[hop] = CTranslate2Translator(
                        spec.ct2_dir, spec.name, revision, hop.token
                    )
                elif engine == "transformers":
                    self._engines[hop] = MarianTranslator(spec.hf_dir, spec.name, revision, hop.token)
                else:
                    raise ModelNotAvailableError(
                        f"Model {spec.name!r} has no files under {str(spec.path)!r}. "
                        "Run `make models` where there is internet."
                    )
            return self._engines[hop]

    # -- public API ------------------------------------------------------------------------
    def languages(self) -> list[LanguageInfo]:
        """Offered languages. Availability is read from disk once: the gateway asks on every
        message, and models only change with `make models` and a restart."""
        if self._languages is None:
            self._languages = [
                LanguageInfo(code, spec.name, spec.dir, spec.tier, self._available(code), spec.native)
                for code, spec in self.registry.languages.items()
            ]
        return list(self._languages)

    def detect(self, text: str, current: str | None = None, explicit: str | None = None) -> Detection:
        return self.detector.detect(text, current=current, explicit=explicit)

    def warm_up(self) -> None:
        """Load what the detector loads on first use (called once at start-up)."""
        warm_up = getattr(self.detector, "warm_up", None)
        if warm_up is not None:
            warm_up()

    def to_swedish(self, text: str, lang: str) -> Translation:
        return self._translate(text, served(normalise_code(lang)), "sv")

    def from_swedish(self, text: str, lang: str) -> Translation:
        return self._translate(text, "sv", served(normalise_code(lang)))

    def pretranslate(self, texts: Iterable[str], langs: Iterable[str]) -> int:
        """Translate fixed Swedish answers into `langs` ahead of time; returns how many
        translations were accepted (and are now cached)."""
        items = list(texts)
        accepted = 0
        for lang in langs:
            for text in items:
                accepted += self.from_swedish(text, lang).ok
        return accepted

    def report(self) -> ServiceReport:
        """The registry version, English names, verified notices and routes (``status``)."""
        return ServiceReport(
            registry_version=self.registry.version,
            english_names={code: spec.english for code, spec in self.registry.languages.items()},
            verified_notices=self.notices.verified_counts(),
            routes=self.status(),
        )

    def status(self) -> list[RouteStatus]:
        rows: list[RouteStatus] = []
        for (src, tgt), route in self._routes.items():
            if not route.hops:
                continue
            lang = tgt if src == "sv" else src
            specs = [self.registry.models[h.model] for h in route.hops]
            engines = [self._engines.get(h) for h in route.hops]
            rows.append(
                {
                    "source": src,
                    "target": tgt,
                    "model": " + ".join(s.hf_id for s in specs),
                    "engine": " + ".join(s.available_engine() or s.engine for s in specs),
                    "revision": " + ".join(s.resolved_revision() for s in specs),
                    "tier": self.registry.languages[lang].tier,
                    "available": route.available,
                    "loaded": all(getattr(e, "loaded", False) for e in engines),
                }
            )
        return rows

    def notice(self, key: str, lang: str, *, verified_only: bool = False) -> str | None:
        """The fixed line `key` in `lang`, or None if it has not been written in that language
        (or, with verified_only, not yet checked by a human translator: none is yet)."""
        found = self.notices.notice(key, served(normalise_code(lang)))
        if found is None or (verified_only and not found.verified):
            return None
        return found.text

    # -- internals ---------------------------------------------------------------------------
    def _available(self, code: str) -> bool:
        if code == "sv":
            return True
        return all(self._routes[p].available for p in ((code, "sv"), ("sv", code)))

    def _translate(self, text: str, src: str, tgt: str) -> Translation:
        started = time.perf_counter()
        lang = tgt if src == "sv" else src
        if src == tgt:
            return Translation(text, True, "identity", "identity", "-", 0.0, None, src, tgt)
        spec = self.registry.languages.get(lang)
        if spec is None:
            return self._refuse(text, src, tgt, "unsupported_language")
        route = self._routes[(src, tgt)]
        if not route.available:
            return self._refuse(text, src, tgt, "no_model", spec.tier)
        key = (text, src, tgt)
        with self._results_lock:
            cached = self._results.get(key)
            if cached is not None:
                self._results.move_to_end(key)
                return cached
        result = self._run(route, text, src, tgt, spec.tier)
        result = _with_latency(result, (time.perf_counter() - started) * 1000)
        logger.info(
            "translate %s->%s ok=%s reason=%s chars=%d score=%s ms=%.1f",
            src, tgt, result.ok, result.reason, len(text), result.score, result.latency_ms,
        )
        if result.reason == "engine_error":  # transient: do not remember it
            return result
        with self._results_lock:
            self._results[key] = result
            while len(self._results) > self.cache_size:
                self._results.popitem(last=False)
        return result

    def _run(self, route: _Route, text: str, src: str, tgt: str, tier: str) -> Translation:
        sentences = split_sentences(text)
        protected = [self.protector.protect(s) for s in sentences]
        try:
            results = route.translator().translate([p.text for p in protected], src, tgt)
        except (ModelNotAvailableError, RuntimeError, ValueError, OSError) as exc:
            logger.error("translate %s->%s failed: %s", src, tgt, type(exc).__name__)
            return self._refuse(text, src, tgt, "engine_error", tier)
        restored: list[str] = []
        floor = self.registry.quality.min_mean_logprob
        for source, prot, res in zip(sentences, protected, results, strict=True):
            if res.score is not None and res.score < floor:  # unsure: nothing else matters
                return self._refuse(text, src, tgt, "low_score", tier, res)
            try:
                restored_text = self.protector.restore(res.text, prot)
            except PlaceholderError:
                return self._refuse(text, src, tgt, "placeholder_lost", tier, res)
            reason = self.gate.check(source, _replace_text(res, restored_text), tgt)
            if reason:
                return self._refuse(text, src, tgt, reason, tier, res)
            restored.append(restored_text)
        scores = [r.score for r in results if r.score is not None]
        first = results[0] if results else TranslationResult(text, None, "-", "-", "-")
        return Translation(
            join_sentences(restored), True, first.engine, first.model, first.revision,
            min(scores) if scores else None, None, src, tgt, tier,
        )

    @staticmethod
    def _refuse(
        text: str, src: str, tgt: str, reason: str, tier: str = "good",
        res: TranslationResult | None = None,
    ) -> Translation:
        return Translation(
            text, False, res.engine if res else "-", res.model if res else "-",
            res.revision if res else "-", res.score if res else None, reason, src, tgt, tier,
        )


def _replace_text(result: TranslationResult, text: str) -> TranslationResult:
    return TranslationResult(text, result.score, result.engine, result.model, result.revision)


def _with_latency(t: Translation, ms: float) -> Translation:
    return Translation(
        t.text, t.ok, t.engine, t.model, t.revision, t.score, t.reason,
        t.source_lang, t.target_lang, t.tier, round(ms, 2),
    )
