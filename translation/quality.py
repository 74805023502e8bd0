"""The quality gate: reject a machine translation before a citizen sees it.

A translation is rejected when the model was unsure (low mean log-probability per token),
when the output length is implausible for the input (a model stuck repeating itself, or
dropping half the sentence), or when the output does not read as the target language.
The caller then falls back (Swedish and English answer, offer of a person).
"""

from __future__ import annotations

from dataclasses import dataclass

from translation.engines import TranslationResult
from translation.langid import LanguageDetector, served
from translation.registry import QualitySettings

REASON_LOW_SCORE = "low_score"
REASON_LENGTH = "length_ratio"
REASON_LANGUAGE = "language_mismatch"


@dataclass(frozen=True)
class QualityGate:
    settings: QualitySettings
    detector: LanguageDetector | None = None
    min_chars_for_ratio: int = 20
    min_words_for_language: int = 4

    def check(self, source: str, result: TranslationResult, target: str) -> str | None:
        """None if the translation may be shown, else the reason it is rejected."""
        s = self.settings
        if result.score is not None and result.score < s.min_mean_logprob:
            return REASON_LOW_SCORE
        if len(source) >= self.min_chars_for_ratio:
            ratio = len(result.text) / max(len(source), 1)
            if not s.min_length_ratio <= ratio <= s.max_length_ratio:
                return REASON_LENGTH
        if not result.text.strip():
            return REASON_LENGTH
        if s.check_language and self.detector is not None:
            if len(result.text.split()) >= self.min_words_for_language:
                found = self.detector.detect(result.text)
                if found.code != served(target) and found.confidence >= 0.8:
                    return REASON_LANGUAGE
        return None
