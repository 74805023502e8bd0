from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from translation.engines import TranslationResult
from translation.errors import LanguageError, RegistryError
from translation.langid import ChatLanguageDetector
from translation.notices import KEYS, Notices
from translation.quality import QualityGate
from translation.registry import ModelRegistry, QualitySettings
from translation.service import TranslationService

OFFERED = {"sv", "en", "ar", "fa", "uk", "ru", "pl", "fi", "tr", "es", "de", "sh", "so", "ti", "ku", "am", "ps", "th"}


def test_default_registry_offers_the_languages_with_direction_and_tier() -> None:
    registry = ModelRegistry.load()
    assert set(registry.languages) == OFFERED
    assert {c for c, s in registry.languages.items() if s.dir == "rtl"} == {"ar", "fa", "ku", "ps"}
    assert {"so", "ti", "ku", "ps", "am"} <= {c for c, s in registry.languages.items() if s.tier == "poor"}
    for code, spec in registry.languages.items():
        if code != "sv":
            assert spec.to_sv and spec.from_sv, code
    assert registry.route("sv", "ar")[1].token == ">>ara<<"


def test_without_downloaded_models_nothing_is_available_but_everything_is_listed(tmp_path: Path) -> None:
    service = TranslationService.from_config(tmp_path)
    info = {lang.code: lang for lang in service.languages()}
    assert info["uk"].name == "Українська" and not info["uk"].available
    assert service.from_swedish("hej", "uk").reason == "no_model"


def test_every_offered_language_has_every_notice_with_its_verified_flag() -> None:
    notices = Notices.load()
    for key in KEYS:
        for code in OFFERED:
            notice = notices.notice(key, code)
            # verified is true only once a translator checked the line; either way it is a bool
            assert notice is not None and notice.text and isinstance(notice.verified, bool), (key, code)


def test_registry_errors_name_the_problem(tmp_path: Path) -> None:
    bad = {"models": {"m": {"hf_id": "x/y", "engine": "onnx"}}, "languages": {"sv": {}}}
    with pytest.raises(RegistryError, match=r"engine 'onnx'. Allowed: ct2, transformers"):
        ModelRegistry.from_dict(bad, tmp_path)
    unknown = {"models": {}, "languages": {"sv": {}, "ar": {"to_sv": ["opus-mt-ar-sv"]}}}
    with pytest.raises(RegistryError, match=r"uses model 'opus-mt-ar-sv', which is not under models"):
        ModelRegistry.from_dict(unknown, tmp_path)
    with pytest.raises(LanguageError, match=r"'xx' is not offered. Offered: sv"):
        ModelRegistry.from_dict({"languages": {"sv": {}}}, tmp_path).route("sv", "xx")
    path = tmp_path / "models.yml"
    path.write_text(yaml.safe_dump(["not", "a", "mapping"]), encoding="utf-8")
    with pytest.raises(RegistryError, match="must be a YAML mapping"):
        ModelRegistry.load(path, tmp_path)


def test_quality_gate_rejects_odd_length_and_wrong_language() -> None:
    gate = QualityGate(QualitySettings(), ChatLanguageDetector())
    source = "Du kan ansöka om bygglov via e-tjänsten på webbplatsen."

    def result(text: str, score: float = -0.2) -> TranslationResult:
        return TranslationResult(text, score, "ct2", "m", "r")

    assert gate.check(source, result("You can apply for a building permit through the e-service."), "en") is None
    assert gate.check(source, result("You can"), "en") == "length_ratio"
    assert gate.check(source, result("You " * 80), "en") == "length_ratio"
    swedish = result("Du kan ansöka om bygglov via e-tjänsten på webbplatsen.")
    assert gate.check(source, swedish, "en") == "language_mismatch"
    assert gate.check(source, result("You can apply for a building permit online.", -3.0), "en") == "low_score"
