"""Tiny but real translation models under real language codes, built once per test run.

The models are tests/translation/tiny_models.py's (Swedish <-> English pairs, trained here and
converted with the real CTranslate2 converter). Registered as: every language with lines in
translation/notices.yml translates the citizen's question into Swedish but has no model back
(answers fall back to Swedish and English); ``so`` (tier poor) and ``de`` (tier good) translate
both ways. The registry's check_language is off: the tiny models' output is English words.
"""
from __future__ import annotations

import tempfile
import textwrap
from functools import cache
from pathlib import Path

from tests.translation import tiny_models as tm
from translation.notices import Notices

#: Languages with a no_translation line other than the originals.
NOTICE_LANGUAGES = sorted(lang for lang in Notices.load().entries["no_translation"] if lang not in ("sv", "en"))
POOR = "so"  # tier poor, both directions installed
GOOD = "de"  # tier good, both directions installed


@cache
def build() -> tuple[Path, Path]:
    """(models directory, registry file)."""
    root = Path(tempfile.mkdtemp(prefix="lang-models-"))
    sv_x = tm.build_marian(root / "tiny-sv-x" / "hf", [s for s, _ in tm.SV_EN], [e for _, e in tm.SV_EN])
    tm.train_pairs(sv_x, tm.SV_EN)
    tm.convert_ct2(sv_x, root / "tiny-sv-x" / "ct2")
    pairs = [(f">>swe<< {en}", sv) for en, sv in tm.EN_SV]
    x_sv = tm.build_marian(root / "tiny-x-sv" / "hf", [s for s, _ in pairs], [t for _, t in pairs], seed=1)
    tm.train_pairs(x_sv, pairs)
    tm.convert_ct2(x_sv, root / "tiny-x-sv" / "ct2")
    inbound = '[{model: tiny-x-sv, token: ">>swe<<"}]'
    languages = [
        "sv: {name: Svenska, english: Swedish, native: true}",
        "en: {name: English, english: English, native: true}",
        f"{GOOD}: {{name: Deutsch, english: German, tier: good, to_sv: {inbound}, from_sv: [tiny-sv-x]}}",
        f"{POOR}: {{name: Soomaali, english: Somali, tier: poor, to_sv: {inbound}, from_sv: [tiny-sv-x]}}",
    ]
    languages += [
        f"{code}: {{name: {code}, english: {code}, tier: good, to_sv: {inbound}, from_sv: [not-downloaded]}}"
        for code in NOTICE_LANGUAGES if code not in (GOOD, POOR)
    ]
    registry = root / "models.yml"
    registry.write_text(textwrap.dedent("""
        version: lang-test-1
        quality: {min_mean_logprob: -1.5, min_length_ratio: 0.2, max_length_ratio: 5.0, check_language: false}
        models:
          tiny-sv-x: {hf_id: local/tiny-sv-x, revision: r1, engine: ct2}
          tiny-x-sv: {hf_id: local/tiny-x-sv, revision: r2, engine: ct2}
          not-downloaded: {hf_id: Helsinki-NLP/opus-mt-sv-ar, engine: ct2}
        languages:
        """) + "".join(f"  {line}\n" for line in languages), encoding="utf-8")
    return root, registry
