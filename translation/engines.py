"""Translation engines behind one `Translator` protocol.

- `MarianTranslator`: MarianMT through transformers, from a local directory (reference).
- `CTranslate2Translator`: the same model converted to CTranslate2 int8 (fast path).
- `IdentityTranslator`: same language in and out.
- `PivotTranslator`: two translators in a row (X → en → sv).
Caching lives in `translation.cache`. Models load on first use, never at import time, and
only from disk: nothing here downloads.

`TranslationResult.score` is the mean log-probability per output token (≤ 0; closer to 0
means the model was more certain), used by the quality gate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from translation.errors import ModelNotAvailableError
from translation.vmap import Shortlist

if TYPE_CHECKING:
    import ctranslate2
    import sentencepiece

logger = logging.getLogger(__name__)

MAX_TOKENS = 256


@dataclass(frozen=True)
class TranslationResult:
    text: str
    score: float | None  # mean log-probability per output token
    engine: str
    model: str
    revision: str


class Translator(Protocol):
    """Translates a batch of texts; one result per text, in order."""

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]: ...


class IdentityTranslator:
    """Returns the text unchanged (Swedish to Swedish, or a native language)."""

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        return [TranslationResult(t, 0.0, "identity", "identity", "-") for t in texts]


class PivotTranslator:
    """`first` then `second`, e.g. ar → en → sv. The score is the lower of the two."""

    def __init__(self, first: Translator, second: Translator, pivot: str = "en") -> None:
        self.first = first
        self.second = second
        self.pivot = pivot

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        middle = self.first.translate(texts, src, self.pivot)
        final = self.second.translate([m.text for m in middle], self.pivot, tgt)
        results = []
        for a, b in zip(middle, final, strict=True):
            scores = [s for s in (a.score, b.score) if s is not None]
            results.append(
                TranslationResult(
                    text=b.text,
                    score=min(scores) if scores else None,
                    engine=f"pivot({a.engine}+{b.engine})",
                    model=f"{a.model} + {b.model}",
                    revision=f"{a.revision} + {b.revision}",
                )
            )
        return results


class _LazyModel:
    """Shared lazy loading: the first translate() loads the model, under a lock."""

    def __init__(self, name: str, revision: str, target_token: str | None) -> None:
        self.name = name
        self.revision = revision
        self.target_token = target_token
        self._lock = threading.Lock()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def ensure_loaded(self) -> None:
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
                logger.info("loaded model %s (%s)", self.name, type(self).__name__)

    def _load(self) -> None:
        raise NotImplementedError


class MarianTranslator(_LazyModel):
    """MarianMTModel + MarianTokenizer from a local directory, greedy decoding."""

    engine = "transformers"

    def __init__(
        self,
        model_dir: Path,
        name: str,
        revision: str = "local",
        target_token: str | None = None,
        num_beams: int = 1,
        max_new_tokens: int = MAX_TOKENS,
    ) -> None:
        super().__init__(name, revision, target_token)
        self.model_dir = model_dir
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self._model: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if not (self.model_dir / "config.json").is_file():
            raise ModelNotAvailableError(
                f"Model {self.name!r}: no config.json in {str(self.model_dir)!r}. "
                "Run `make models` where there is internet, or fix models_dir."
            )
        import warnings

        from transformers import MarianMTModel, MarianTokenizer

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses.*")
            self._tokenizer = MarianTokenizer.from_pretrained(str(self.model_dir))
        self._model = MarianMTModel.from_pretrained(str(self.model_dir))
        self._model.eval()

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        if not texts:
            return []
        self.ensure_loaded()
        import torch

        inputs = [f"{self.target_token} {t}" if self.target_token else t for t in texts]
        batch = self._tokenizer(inputs, return_tensors="pt", padding=True, truncation=True,
                                max_length=MAX_TOKENS)
        with torch.inference_mode():
            out = self._model.generate(
                **batch,
                num_beams=self.num_beams,
                do_sample=False,
                max_new_tokens=self.max_new_tokens,
                output_scores=True,
                return_dict_in_generate=True,
            )
            steps = self._model.compute_transition_scores(
                out.sequences, out.scores, out.get("beam_indices"), normalize_logits=True
            )
        decoded = self._tokenizer.batch_decode(out.sequences, skip_special_tokens=True)
        pad_id = self._model.config.pad_token_id
        results = []
        for i, text in enumerate(decoded):
            generated = out.sequences[i, 1:]
            mask = generated != pad_id
            n = int(mask.sum())
            score = float(steps[i][mask[: steps.shape[1]]].sum()) / max(n, 1)
            results.append(TranslationResult(text.strip(), score, self.engine, self.name, self.revision))
        return results


class CTranslate2Translator(_LazyModel):
    """A CTranslate2 model (int8) with the OPUS-MT SentencePiece models next to it.

    One thread per translation by default: at batch size 1 on the 2-core machines a second
    thread was slower (bench/translation_bench.py), and it leaves a core for the gateway.
    `use_vmap=None` uses the vocabulary map when the model directory has one. A lexical map
    (translation/vmap.py) is used only for sentences whose every source piece it knows; the
    others are translated over the whole vocabulary.
    """

    engine = "ct2"

    def __init__(
        self,
        model_dir: Path,
        name: str,
        revision: str = "local",
        target_token: str | None = None,
        spm_dir: Path | None = None,
        compute_type: str = "int8",
        beam_size: int = 1,
        use_vmap: bool | None = None,
        intra_threads: int = 1,
        max_decoding_length: int = MAX_TOKENS,
    ) -> None:
        super().__init__(name, revision, target_token)
        self.model_dir = model_dir
        self.spm_dir = spm_dir or model_dir
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.use_vmap = use_vmap
        self.intra_threads = intra_threads
        self.max_decoding_length = max_decoding_length
        self._translator: ctranslate2.Translator | None = None
        self._source: sentencepiece.SentencePieceProcessor | None = None
        self._target: sentencepiece.SentencePieceProcessor | None = None
        self._shortlist: Shortlist | None = None
        self.last_used_vmap: list[bool] = []  # per sentence of the last batch (benchmarks, tests)
        # Called with (source pieces, output pieces) per sentence; `make models` learns the
        # lexical vocabulary map from these (translation/vmap.py).
        self.recorder: Callable[[list[str], list[str]], None] | None = None

    def _load(self) -> None:
        if not (self.model_dir / "model.bin").is_file():
            raise ModelNotAvailableError(
                f"Model {self.name!r}: no model.bin in {str(self.model_dir)!r}. "
                "Run `make models` where there is internet, or fix models_dir."
            )
        import ctranslate2
        import sentencepiece

        self._translator = ctranslate2.Translator(
            str(self.model_dir), device="cpu", compute_type=self.compute_type,
            intra_threads=self.intra_threads,
        )
        self._source = sentencepiece.SentencePieceProcessor(model_file=str(self.spm_dir / "source.spm"))
        self._target = sentencepiece.SentencePieceProcessor(model_file=str(self.spm_dir / "target.spm"))
        vmap = self.model_dir / "vmap.txt"
        if self.use_vmap is None:
            self.use_vmap = vmap.is_file()
        if self.use_vmap and vmap.is_file():
            self._shortlist = Shortlist.read(vmap)

    def encode(self, text: str) -> list[str]:
        """SentencePiece pieces + the target-language token (if any) + ``</s>``."""
        self.ensure_loaded()
        if self._source is None:
            raise ModelNotAvailableError(f"Model {self.name!r} has no source SentencePiece model.")
        pieces: list[str] = self._source.encode(text, out_type=str)[: MAX_TOKENS - 2]
        prefix = [self.target_token] if self.target_token else []
        return [*prefix, *pieces, "</s>"]

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        if not texts:
            return []
        batch = [self.encode(t) for t in texts]
        if self._translator is None or self._target is None:
            raise ModelNotAvailableError(f"Model {self.name!r} did not load; see the log.")
        use = [bool(self.use_vmap) and (self._shortlist is None or self._shortlist.covers(b)) for b in batch]
        outputs: list[Any] = [None] * len(batch)
        for flag in (True, False):
            idx = [i for i, u in enumerate(use) if u is flag]
            if not idx:
                continue
            done = self._translator.translate_batch(
                [batch[i] for i in idx],
                beam_size=self.beam_size,
                max_decoding_length=self.max_decoding_length,
                return_scores=True,
                use_vmap=flag,
            )
            for i, out in zip(idx, done):
                outputs[i] = out
        self.last_used_vmap = use
        results = []
        for source, out in zip(batch, outputs):
            tokens: Sequence[str] = out.hypotheses[0]
            if self.recorder is not None:
                self.recorder(list(source), list(tokens))
            text = self._target.decode([t for t in tokens if t != "</s>"])
            score = float(out.scores[0]) if out.scores else None
            results.append(TranslationResult(text.strip(), score, self.engine, self.name, self.revision))
        return results
