from __future__ import annotations

import time
from pathlib import Path

import pytest

from translation.errors import LanguageError, TranslationError
from translation.service import TranslationService


@pytest.fixture(scope="module")
def service(models_dir: Path, registry_path: Path) -> TranslationService:
    return TranslationService.from_config(models_dir, registry_path)


def test_languages_report_names_direction_and_what_can_be_translated_now(service: TranslationService) -> None:
    info = {lang.code: lang for lang in service.languages()}
    assert info["sv"].available and info["sv"].native
    assert info["en"].available and info["en"].native
    assert info["xx"].available and info["xx"].tier == "poor" and not info["xx"].native
    assert not info["ar"].available  # registered but not downloaded
    assert (info["ar"].name, info["ar"].dir) == ("العربية", "rtl")


def test_from_swedish_translates_and_keeps_the_phone_number(service: TranslationService) -> None:
    result = service.from_swedish("ring 054-540 00 00 idag", "en")
    assert result.ok, result
    assert result.text == "call 054-540 00 00 today"
    assert (result.engine, result.model, result.revision) == ("ct2", "tiny-sv-en", "abc123")
    assert (result.source_lang, result.target_lang) == ("sv", "en")
    assert result.score is not None and result.score > -1.0


def test_url_and_place_survive_translation(service: TranslationService) -> None:
    result = service.from_swedish("skriv till info@karlstad.se eller https://karlstad.se/kontakt", "en")
    assert result.ok and result.text == "write to info@karlstad.se or https://karlstad.se/kontakt"
    assert service.from_swedish("bussen går från Kronoparken", "en").text == "the bus leaves from Kronoparken"


def test_lost_placeholder_rejects_the_translation_and_returns_the_original(service: TranslationService) -> None:
    result = service.from_swedish("besök https://karlstad.se/bygglov", "en")
    assert not result.ok
    assert result.reason == "placeholder_lost"
    assert result.text == "besök https://karlstad.se/bygglov"


def test_to_swedish_through_the_english_pivot(service: TranslationService) -> None:
    result = service.to_swedish("var är biblioteket", "xx")
    assert result.ok and result.text == "var är biblioteket"
    assert result.engine == "pivot(ct2+transformers)" and result.tier == "poor"


def test_multi_target_token_route_translates_english_to_swedish(service: TranslationService) -> None:
    assert service.to_swedish("where is the library", "en").text == "var är biblioteket"


def test_uncertain_model_output_is_rejected(service: TranslationService) -> None:
    result = service.from_swedish("hej världen", "xx")  # untrained model
    assert not result.ok and result.reason == "low_score"
    assert result.text == "hej världen"


def test_missing_model_and_unknown_language_fall_back(service: TranslationService) -> None:
    no_model = service.to_swedish("مرحبا", "ar")
    assert (no_model.ok, no_model.reason, no_model.text) == (False, "no_model", "مرحبا")
    unknown = service.from_swedish("hej", "zu")
    assert (unknown.ok, unknown.reason) == (False, "unsupported_language")
    with pytest.raises(LanguageError, match="not an ISO 639 code"):
        service.from_swedish("hej", "swedish!")


def test_swedish_to_swedish_is_identity(service: TranslationService) -> None:
    result = service.to_swedish("hej", "sv-SE")
    assert (result.ok, result.text, result.engine) == (True, "hej", "identity")


def test_long_message_is_translated_sentence_by_sentence(service: TranslationService) -> None:
    result = service.from_swedish("hej världen\ntack så mycket", "en")
    assert result.ok and result.text == "hello world thank you very much"


def test_pretranslate_warms_the_cache_so_repeats_are_instant(service: TranslationService) -> None:
    answers = ["var är biblioteket", "soptunnan töms på måndag"]
    assert service.pretranslate(answers, ["en", "xx"]) == 2  # xx is rejected (untrained model)
    start = time.perf_counter()
    for _ in range(200):
        hit = service.from_swedish("soptunnan töms på måndag", "en")
    assert hit.ok and hit.text == "the bin is emptied on monday"
    assert (time.perf_counter() - start) * 1000 / 200 < 1.0


def test_status_lists_every_pair_with_model_revision_and_load_state(service: TranslationService) -> None:
    service.from_swedish("hej världen", "en")
    rows = {(r["source"], r["target"]): r for r in service.status()}
    sv_en = rows[("sv", "en")]
    assert sv_en["model"] == "local/tiny-sv-en" and sv_en["revision"] == "abc123"
    assert sv_en["engine"] == "ct2" and sv_en["loaded"] and sv_en["available"]
    ar = rows[("ar", "sv")]
    assert (ar["available"], ar["loaded"], ar["model"]) == (False, False, "Helsinki-NLP/opus-mt-ar-en")


def test_notices_in_the_citizens_language(service: TranslationService) -> None:
    assert service.notice("machine_translated", "ar") == "تمت ترجمة هذه الإجابة آليًا."
    assert "054-540 00 00" in (service.notice("no_translation", "so") or "")
    assert service.notice("write_sv_en", "hr") == service.notice("write_sv_en", "sh")
    assert service.notice("machine_translated", "zu") is None
    verified = service.notices.notice("machine_translated", "ar")
    assert verified is not None  # verified_only gives the line only when a translator checked it
    expected = verified.text if verified.verified else None
    assert service.notice("machine_translated", "ar", verified_only=True) == expected
    with pytest.raises(TranslationError, match="not defined"):
        service.notice("no_such_notice", "sv")


def test_detect_is_available_on_the_service(service: TranslationService) -> None:
    assert service.detect("hej hur mår du").code == "sv"
    assert service.detect("hello", explicit="ar").method == "explicit"
