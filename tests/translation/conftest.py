"""Session fixtures: tiny real Marian models, converted with the real CTranslate2 converter."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # works with any --import-mode
import tiny_models as tm  # noqa: E402

DATA = Path(__file__).parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    # MarianTokenizer recommends sacremoses (Moses pre-processing), which is not used here.
    config.addinivalue_line("filterwarnings", "ignore:Recommended. pip install sacremoses")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    sv_en = tm.build_marian(root / "tiny-sv-en" / "hf", [s for s, _ in tm.SV_EN], [e for _, e in tm.SV_EN])
    tm.train_pairs(sv_en, tm.SV_EN)
    tm.convert_ct2(sv_en, root / "tiny-sv-en" / "ct2")
    (root / "tiny-sv-en" / "REVISION").write_text("abc123\n", encoding="utf-8")

    en_sv_pairs = [(f">>swe<< {en}", sv) for en, sv in tm.EN_SV]
    en_sv = tm.build_marian(
        root / "tiny-en-sv" / "hf", [s for s, _ in en_sv_pairs], [t for _, t in en_sv_pairs], seed=1
    )
    tm.train_pairs(en_sv, en_sv_pairs)  # transformers engine only: no ct2/ directory

    random = tm.build_marian(root / "tiny-random" / "hf", [s for s, _ in tm.SV_EN], ["x y z"] * 4, seed=2)
    tm.convert_ct2(random, root / "tiny-random" / "ct2")
    return root


@pytest.fixture(scope="session")
def registry_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry") / "models.yml"
    path.write_text(
        textwrap.dedent(
            """
            version: test-1
            quality: {min_mean_logprob: -1.0, min_length_ratio: 0.2, max_length_ratio: 5.0, check_language: true}
            models:
              tiny-sv-en: {hf_id: local/tiny-sv-en, revision: r1, engine: ct2}
              tiny-en-sv: {hf_id: local/tiny-en-sv, revision: r2, engine: transformers}
              tiny-random: {hf_id: local/tiny-random, revision: r0, engine: ct2}
              not-downloaded: {hf_id: Helsinki-NLP/opus-mt-ar-en, engine: ct2}
            languages:
              sv: {name: Svenska, english: Swedish, native: true}
              en: {name: English, english: English, native: true,
                   to_sv: [{model: tiny-en-sv, token: ">>swe<<"}], from_sv: [tiny-sv-en]}
              xx: {name: Pivotish, english: Pivotish, tier: poor,
                   to_sv: [tiny-sv-en, {model: tiny-en-sv, token: ">>swe<<"}], from_sv: [tiny-random]}
              ar: {name: العربية, english: Arabic, dir: rtl, to_sv: [not-downloaded], from_sv: [not-downloaded]}
            """
        ),
        encoding="utf-8",
    )
    return path
