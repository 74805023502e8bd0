"""Extract the external language-ID measuring sets (issue 17) from a local copy of the
Helsinki-NLP/OPUS-MT-testsets git repository. MEASURING ONLY: never tune on these lines,
never look at their misrouted lines, never copy their text into this repository (the output
directory must lie outside it).

* ``tatoeba_short.tsv``: Tatoeba test v2021-08-07 lines of 3-10 words (Amharic: v2021-03-30,
  the only release with Amharic; Thai, written without spaces: lines of 2-60 characters);
  Serbo-Croatian split by the ``.labels`` files (hr, bs, sr-Latn, sr-Cyrl), Kurdish into
  Kurmanji (``kmr``) and Sorani (``ckb``).
* ``flores_fragments.tsv``: FLORES-200 devtest, the same 150 sentences in every language,
  each cut to its first 3-10 words (length drawn per sentence; Thai: 6 characters a word).

Up to 150 lines per label, deduplicated, seeded (the same files every run):

    python scripts/langid_extsets.py /path/to/OPUS-MT-testsets.git /work/extsets
    PYTHONPATH=. .venv/bin/python scripts/langid_eval.py /work/extsets/*.tsv
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TATOEBA = "datasets/helsinki_nlp/tatoeba/testsets"
FLORES = "datasets/facebook/flores/flores200_dataset/devtest"
PER_LABEL = 150
#: label -> (pair directory, file suffix, labels to keep or None, release)
TATOEBA_SETS: dict[str, tuple[str, str, frozenset[str] | None, str]] = {
    "sv": ("eng-swe", "swe", None, "v2021-08-07"),
    "en": ("eng-swe", "eng", None, "v2021-08-07"),
    "ar": ("ara-eng", "ara", frozenset({"ara"}), "v2021-08-07"),
    "fa": ("eng-pes", "pes", None, "v2021-08-07"),
    "uk": ("eng-ukr", "ukr", None, "v2021-08-07"),
    "ru": ("eng-rus", "rus", None, "v2021-08-07"),
    "pl": ("eng-pol", "pol", None, "v2021-08-07"),
    "fi": ("eng-fin", "fin", None, "v2021-08-07"),
    "tr": ("eng-tur", "tur", None, "v2021-08-07"),
    "es": ("eng-spa", "spa", None, "v2021-08-07"),
    "de": ("deu-eng", "deu", None, "v2021-08-07"),
    "hr": ("eng-hbs", "hbs", frozenset({"hrv"}), "v2021-08-07"),
    "bs": ("eng-hbs", "hbs", frozenset({"bos_Latn"}), "v2021-08-07"),
    "sr-Latn": ("eng-hbs", "hbs", frozenset({"srp_Latn"}), "v2021-08-07"),
    "sr-Cyrl": ("eng-hbs", "hbs", frozenset({"srp_Cyrl"}), "v2021-08-07"),
    "kmr": ("eng-kur", "kur", frozenset({"kur_Latn", "kmr_Latn"}), "v2021-08-07"),
    "ckb": ("eng-kur", "kur", frozenset({"ckb"}), "v2021-08-07"),
    "am": ("amh-eng", "amh", None, "v2021-03-30"),
    "th": ("eng-tha", "tha", None, "v2021-08-07"),
}
FLORES_SETS = {
    "sv": "swe_Latn", "en": "eng_Latn", "ar": "arb_Arab", "fa": "pes_Arab", "prs": "prs_Arab",
    "uk": "ukr_Cyrl", "ru": "rus_Cyrl", "pl": "pol_Latn", "fi": "fin_Latn", "tr": "tur_Latn",
    "es": "spa_Latn", "de": "deu_Latn", "hr": "hrv_Latn", "bs": "bos_Latn", "sr-Cyrl": "srp_Cyrl",
    "so": "som_Latn", "ti": "tir_Ethi", "am": "amh_Ethi", "kmr": "kmr_Latn", "ckb": "ckb_Arab",
    "ps": "pbt_Arab", "th": "tha_Thai",
}


def _show(git_dir: Path, path: str) -> list[str]:
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"],
                          capture_output=True, text=True, check=True).stdout.splitlines()


def _sample(lines: list[str], label: str) -> list[str]:
    unique = list(dict.fromkeys(line.strip() for line in lines if line.strip()))
    random.Random(f"17-{label}").shuffle(unique)
    return unique[:PER_LABEL]


def tatoeba(git_dir: Path) -> list[tuple[str, str]]:
    rows = []
    for label, (pair, suffix, keep, release) in TATOEBA_SETS.items():
        base = f"{TATOEBA}/{pair}/tatoeba-test-{release}.{suffix}"
        lines = _show(git_dir, base)
        if keep is not None:
            labels = _show(git_dir, base + ".labels")
            lines = [line for line, tag in zip(lines, labels, strict=True) if tag.strip() in keep]
        if label == "th":
            lines = [line for line in lines if 2 <= len(line.strip()) <= 60]
        else:
            lines = [line for line in lines if 3 <= len(line.split()) <= 10]
        rows += [(label, line) for line in _sample(lines, label)]
    return rows


def flores(git_dir: Path) -> list[tuple[str, str]]:
    rng = random.Random(17)
    count = len(_show(git_dir, f"{FLORES}/eng_Latn.devtest"))
    picked = rng.sample(range(count), PER_LABEL)
    lengths = [rng.randint(3, 10) for _ in picked]
    rows = []
    for label, stem in FLORES_SETS.items():
        lines = _show(git_dir, f"{FLORES}/{stem}.devtest")
        for index, words in zip(picked, lengths, strict=True):
            line = lines[index].strip()
            fragment = line[: 6 * words] if label == "th" else " ".join(line.split()[:words])
            fragment = fragment.rstrip(",;:")
            if fragment:
                rows.append((label, fragment))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("git_dir", type=Path, help="git directory of Helsinki-NLP/OPUS-MT-testsets")
    parser.add_argument("out_dir", type=Path, help="where to write the TSVs (outside this repository)")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    if out == REPO or REPO in out.parents:
        parser.error(f"{out} is inside the repository; the external sets must stay outside it.")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("tatoeba_short.tsv", tatoeba(args.git_dir)), ("flores_fragments.tsv", flores(args.git_dir))):
        text = "".join(f"{label}\t{line.replace(chr(9), ' ')}\n" for label, line in rows)
        (out / name).write_text(text, encoding="utf-8")
        print(f"{out / name}: {len(rows)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
