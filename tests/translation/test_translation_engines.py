from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from translation.cache import CachedTranslator
from translation.engines import (
    CTranslate2Translator,
    IdentityTranslator,
    MarianTranslator,
    PivotTranslator,
    TranslationResult,
)
from translation.errors import ModelNotAvailableError

SOURCES = ["hej världen", "tack så mycket", "ring [1] idag", "skriv till [1] eller [2]"]
EXPECTED = ["hello world", "thank you very much", "call [1] today", "write to [1] or [2]"]


@pytest.fixture(scope="module")
def marian(models_dir: Path) -> MarianTranslator:
    return MarianTranslator(models_dir / "tiny-sv-en" / "hf", "tiny-sv-en", "abc123")


@pytest.fixture(scope="module")
def ct2(models_dir: Path) -> CTranslate2Translator:
    return CTranslate2Translator(models_dir / "tiny-sv-en" / "ct2", "tiny-sv-en", "abc123")


def test_marian_loads_from_disk_and_translates(marian: MarianTranslator) -> None:
    assert not marian.loaded
    results = marian.translate(SOURCES, "sv", "en")
    assert marian.loaded
    assert [r.text for r in results] == EXPECTED
    assert all(-0.5 < (r.score or -9) <= 0.0 for r in results)
    assert {(r.engine, r.model, r.revision) for r in results} == {("transformers", "tiny-sv-en", "abc123")}


def test_ctranslate2_int8_conversion_gives_the_same_translations(ct2: CTranslate2Translator) -> None:
    results = ct2.translate(SOURCES, "sv", "en")
    assert [r.text for r in results] == EXPECTED
    assert all(-0.5 < (r.score or -9) <= 0.0 for r in results)
    assert results[0].engine == "ct2"


def test_untrained_model_scores_low(models_dir: Path) -> None:
    random = CTranslate2Translator(models_dir / "tiny-random" / "ct2", "tiny-random")
    [result] = random.translate(["hej världen"], "sv", "xx")
    assert result.score is not None and result.score < -1.0


def test_multi_target_token_is_prefixed(models_dir: Path) -> None:
    token = CTranslate2Translator(models_dir / "tiny-sv-en" / "ct2", "tiny-sv-en", target_token=">>swe<<")
    assert token.encode("hej världen")[0] == ">>swe<<"
    assert token.encode("hej världen")[-1] == "</s>"
    en_sv = MarianTranslator(models_dir / "tiny-en-sv" / "hf", "tiny-en-sv", target_token=">>swe<<")
    assert [r.text for r in en_sv.translate(["hello world", "where is the library"], "en", "sv")] == [
        "hej världen", "var är biblioteket"
    ]


def test_pivot_chains_two_real_models(ct2: CTranslate2Translator, models_dir: Path) -> None:
    en_sv = MarianTranslator(models_dir / "tiny-en-sv" / "hf", "tiny-en-sv", "r2", target_token=">>swe<<")
    [result] = PivotTranslator(ct2, en_sv).translate(["tack så mycket"], "xx", "sv")
    assert result.text == "tack så mycket"
    assert result.engine == "pivot(ct2+transformers)"
    assert result.model == "tiny-sv-en + tiny-en-sv"
    assert result.revision == "abc123 + r2"


def test_identity_returns_the_text() -> None:
    assert IdentityTranslator().translate(["hej"], "sv", "sv")[0].text == "hej"


def test_missing_model_files_give_an_actionable_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match=r"no model.bin in .*make models"):
        CTranslate2Translator(tmp_path, "opus-mt-ar-en").translate(["x"], "ar", "en")
    with pytest.raises(ModelNotAvailableError, match=r"no config.json"):
        MarianTranslator(tmp_path, "opus-mt-ar-en").translate(["x"], "ar", "en")


class CountingTranslator:
    def __init__(self) -> None:
        self.calls = 0

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        self.calls += len(texts)
        return [TranslationResult(t.upper(), -0.1, "fake", "m", "r") for t in texts]


def test_cache_hit_skips_the_engine_and_costs_far_less_than_a_millisecond(ct2: CTranslate2Translator) -> None:
    cached = CachedTranslator(ct2, revision="abc123", glossary_version="g1")
    first = cached.translate(["hej världen"], "sv", "en")
    start = time.perf_counter()
    for _ in range(1000):
        again = cached.translate(["hej världen"], "sv", "en")
    per_hit_ms = (time.perf_counter() - start) * 1000 / 1000
    assert again == first and cached.hits == 1000 and cached.misses == 1
    assert per_hit_ms < 0.1


def test_cache_key_includes_revision_and_glossary_version() -> None:
    inner = CountingTranslator()
    CachedTranslator(inner, "r1", "g1").translate(["a"], "sv", "en")
    shared = CachedTranslator(inner, "r1", "g1")
    shared.translate(["a", "b"], "sv", "en")
    shared.translate(["a", "b"], "sv", "en")
    assert inner.calls == 3  # each new cache misses once per text, then hits
    shared.revision = "r2"  # a new model revision must not serve old translations
    shared.translate(["a"], "sv", "en")
    assert inner.calls == 4


def test_cache_evicts_least_recently_used() -> None:
    inner = CountingTranslator()
    cached = CachedTranslator(inner, "r", max_entries=2)
    cached.translate(["a", "b"], "sv", "en")
    cached.translate(["a"], "sv", "en")
    cached.translate(["c"], "sv", "en")  # evicts b
    cached.translate(["a", "b"], "sv", "en")
    assert inner.calls == 4 and len(cached) == 2


def _download_script() -> Any:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "download_models.py"
    module_spec = importlib.util.spec_from_file_location("download_models", script)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_vocabulary_map_from_the_download_script_keeps_translations(models_dir: Path, tmp_path: Path) -> None:
    import shutil

    from translation.registry import ModelSpec

    download_models = _download_script()

    shutil.copytree(models_dir / "tiny-sv-en" / "hf", tmp_path / "m" / "hf")
    spec = ModelSpec("m", "local/m", "main", "ct2", tmp_path / "m")
    download_models.convert(spec, use_vmap=True)
    vmapped = CTranslate2Translator(spec.ct2_dir, "m")
    assert [r.text for r in vmapped.translate(SOURCES, "sv", "en")] == EXPECTED
    assert vmapped.use_vmap is True
    assert "▁hej" not in (spec.ct2_dir / "vmap.txt").read_text(encoding="utf-8")  # source-only piece


def test_download_script_rejects_a_target_token_the_model_does_not_know(models_dir: Path, registry_path: Path) -> None:
    import yaml

    from translation.registry import ModelRegistry

    download_models = _download_script()
    assert download_models.check_tokens(ModelRegistry.load(registry_path, models_dir)) == []
    data = yaml.safe_load(registry_path.read_text(encoding="utf-8"))
    data["languages"]["en"]["to_sv"] = [{"model": "tiny-en-sv", "token": ">>swx<<"}]
    [problem] = download_models.check_tokens(ModelRegistry.from_dict(data, models_dir))
    assert "'>>swx<<' is not in tiny-en-sv's vocabulary. Valid: >>swe<<" in problem


def test_lexical_vocabulary_map_learnt_from_own_translations(models_dir: Path, tmp_path: Path) -> None:
    """`make models --vmap lexical`: learn a shortlist by translating our texts, then translate
    known sentences over the shortlist (same output) and unknown ones over the whole vocabulary."""
    import shutil

    from translation.registry import ModelRegistry
    from translation.vmap import Shortlist

    download_models = _download_script()
    shutil.copytree(models_dir / "tiny-sv-en", tmp_path / "tiny-sv-en")
    registry = ModelRegistry.from_dict(
        {
            "version": "t",
            "models": {"tiny-sv-en": {"hf_id": "local/tiny-sv-en", "engine": "ct2"}},
            "languages": {
                "sv": {"name": "Svenska", "english": "Swedish", "native": True},
                "xx": {"name": "X", "english": "X", "from_sv": ["tiny-sv-en"], "to_sv": []},
            },
        },
        tmp_path,
    )
    learnt_from = SOURCES[:2]  # "ring [1] idag" and "skriv till ..." are never seen
    [path] = download_models.learn_shortlists(registry, {"sv": learnt_from}).values()
    shortlist = Shortlist.read(path)
    assert path == tmp_path / "tiny-sv-en" / "ct2" / "vmap.txt"
    assert shortlist.is_lexical and "▁hej" in shortlist.by_source
    vocab_size = len(json.loads((tmp_path / "tiny-sv-en" / "hf" / "vocab.json").read_text(encoding="utf-8")))
    assert len(shortlist.candidates(["▁hej"])) < vocab_size

    engine = CTranslate2Translator(tmp_path / "tiny-sv-en" / "ct2", "tiny-sv-en")
    assert [r.text for r in engine.translate(SOURCES, "sv", "en")] == EXPECTED
    assert engine.last_used_vmap == [True, True, False, False]


def test_shortlist_ignores_language_tokens_and_needs_every_piece() -> None:
    from translation.vmap import build_shortlist

    shortlist = build_shortlist([(["▁a", "▁b", "</s>"], ["▁x", "▁y", "</s>"]), (["▁a", "</s>"], ["▁x", "</s>"])],
                                always=1, per_source=1)
    assert shortlist.always == ("</s>", "<unk>", "▁x")
    assert shortlist.by_source == {"▁a": ("▁x",), "▁b": ("▁y",)}
    assert shortlist.covers([">>swe<<", "▁a", "▁b", "</s>"])
    assert not shortlist.covers(["▁a", "▁c", "</s>"])
