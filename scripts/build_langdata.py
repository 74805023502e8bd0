"""Build the word lists in translation/langdata/ from their upstream sources (run by hand;
the lists are committed, nothing is downloaded at run time).

Sources (see translation/langdata/README.md for licences):

* wordfreq 3.1.1 (PyPI): the most frequent words of sv en de da nb fi pl tr es sh nl fr ru uk
  with their Zipf frequency; Serbian Cyrillic (``sr``) is the ``sh`` list transliterated.
* hunspell-kmr (Debian): Kurmanji stems; klpt 0.1.7 (PyPI): Kurmanji stopwords.
* amharicnlp 2.0.0 (PyPI): Amharic stopwords; tigrinya-nlp 0.1.2 (PyPI): Tigrinya stopwords.
* aspell-am 0.03-1 (Debian): the Amharic spelling dictionary (``am_dict.txt``), dumped with
  ``aspell -d am dump master > am.words``.
* pashto-stopwords 1.0.0 (PyPI): Pashto stopwords (``ps.tsv``); wordfreq's ``fa`` and ``ar``
  lists for Persian and Arabic.
* stopwords-iso (PyPI ``stopwordsiso`` 0.7.1): Somali stopwords (``so.tsv``).

    python scripts/build_langdata.py --wordfreq-python /tmp/venv/bin/python \\
        --kmr-dic /usr/share/hunspell/kmr_Latn.dic --klpt-stopwords .../klpt/data/stopwords.json \\
        --amharic-stopwords .../amharicNLP/resources/amharic_stopword.py \\
        --tigrinya-stopwords .../tigrinya_nlp/stopwords.py --amharic-aspell am.words \\
        --pashto-stopwords .../pashto_stopwords/pashto-stopwords.txt \\
        --stopwords-iso .../stopwordsiso/stopwords-iso.json
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "translation" / "langdata"
WORDFREQ = {"sv": 5000, "en": 2500, "de": 2000, "da": 2000, "nb": 2000, "fi": 2000, "pl": 2000,
            "tr": 2000, "es": 2000, "sh": 2500, "nl": 1000, "fr": 1000, "ru": 2500, "uk": 2500,
            "fa": 3000, "ar": 3000}
_LATIN_TO_SERBIAN = [("dž", "џ"), ("lj", "љ"), ("nj", "њ"), ("đ", "ђ"), ("ć", "ћ"), ("č", "ч"),
                     ("š", "ш"), ("ž", "ж")] + list(zip("abcdefghijklmnoprstuvz", "абцдефгхијклмнопрстувз"))
_DUMP = """
import json, sys, wordfreq
out = {}
for lang, n in json.loads(sys.argv[1]).items():
    out[lang] = [(w, wordfreq.zipf_frequency(w, lang)) for w in wordfreq.top_n_list(lang, n * 2)]
print(json.dumps(out))
"""


def serbian_cyrillic(word: str) -> str | None:
    if re.search(r"[qwxy]", word):
        return None
    for latin, cyrillic in _LATIN_TO_SERBIAN:
        word = word.replace(latin, cyrillic)
    return word if re.fullmatch(r"[\u0400-\u04ff]+", word) else None


def write(code: str, rows: list[tuple[str, float]], source: str) -> None:
    seen: set[str] = set()
    lines = [f"# {code}: {source}. word<TAB>Zipf frequency. Built by scripts/build_langdata.py."]
    for word, zipf in rows:
        if word not in seen:
            seen.add(word)
            lines.append(f"{word}\t{zipf:.1f}")
    (OUT / f"{code}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{code}: {len(seen)} words")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wordfreq-python", required=True, help="a python with wordfreq 3.1.1 installed")
    parser.add_argument("--kmr-dic", type=Path, required=True)
    parser.add_argument("--klpt-stopwords", type=Path, required=True)
    parser.add_argument("--amharic-stopwords", type=Path, required=True)
    parser.add_argument("--tigrinya-stopwords", type=Path, required=True)
    parser.add_argument("--amharic-aspell", type=Path, required=True, help="aspell -d am dump master output")
    parser.add_argument("--pashto-stopwords", type=Path, required=True)
    parser.add_argument("--stopwords-iso", type=Path, required=True, help="stopwordsiso's stopwords-iso.json")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    dumped = subprocess.run([args.wordfreq_python, "-c", _DUMP, json.dumps(WORDFREQ)],
                            capture_output=True, text=True, check=True).stdout
    for lang, rows in json.loads(dumped).items():
        letters = r"[^\W\d_]+(?:'[^\W\d_]+)?"
        kept = [(w, z) for w, z in rows if re.fullmatch(letters, w)][: WORDFREQ[lang]]
        write(lang, kept, "wordfreq 3.1.1 (CC BY-SA 4.0 data), most frequent words")
        if lang == "sh":
            cyr = [(c, z) for c, z in ((serbian_cyrillic(w), z) for w, z in kept) if c]
            write("sr", cyr, "wordfreq 3.1.1 'sh' list transliterated to Serbian Cyrillic")
    stems = [line.split("/")[0].strip().lower() for line in args.kmr_dic.read_text(encoding="utf-8").splitlines()[1:]]
    stop = json.loads(args.klpt_stopwords.read_text(encoding="utf-8"))["Kurmanji"]["Latin"]
    kmr = [(w, 5.0) for w in stop] + [(w, 3.5) for w in stems if len(w) > 2 and re.fullmatch(r"[^\W\d_]+", w)]
    write("kmr", kmr, "klpt 0.1.7 Kurmanji stopwords (5.0, CC BY-SA 4.0) + hunspell-kmr stems (3.5, MPL-1.1)")
    amharic = re.findall(r'"([^"\s-]{2,})"', args.amharic_stopwords.read_text(encoding="utf-8"))
    write("am", [(w, 5.0) for w in amharic if re.fullmatch(r"[\u1200-\u139f]+", w)],
          "amharicnlp 2.0.0 stopwords (MIT), whole words only")
    tigrinya = re.findall(r'"([^"\s]+)"', args.tigrinya_stopwords.read_text(encoding="utf-8"))
    write("ti", [(w, 5.0) for w in tigrinya if re.fullmatch(r"[\u1200-\u139f]+", w)],
          "tigrinya-nlp 0.1.2 stopwords (MIT), whole words only")
    ethiopic = sorted({w.strip() for w in args.amharic_aspell.read_text(encoding="utf-8").splitlines()
                       if re.fullmatch(r"[\u1200-\u139f]+", w.strip())})
    (OUT / "am_dict.txt").write_text(
        "# am_dict: Debian aspell-am 0.03-1 (aspell -d am dump master), public domain (Ge'ez Frontier "
        "Foundation). One word a line. Built by scripts/build_langdata.py.\n" + "\n".join(ethiopic) + "\n",
        encoding="utf-8")
    print(f"am_dict: {len(ethiopic)} words")
    pashto = [w.strip() for w in args.pashto_stopwords.read_text(encoding="utf-8").splitlines()]
    write("ps", [(w, 5.0) for w in pashto if re.fullmatch(r"[\u0600-\u06ff]+", w)],
          "pashto-stopwords 1.0.0 (MIT), single words only")
    somali = json.loads(args.stopwords_iso.read_text(encoding="utf-8"))["so"]
    write("so", [(w, 5.0) for w in somali if re.fullmatch(r"[a-z']+", w)],
          "stopwords-iso (stopwordsiso 0.7.1, MIT) Somali")
    return 0


if __name__ == "__main__":
    sys.exit(main())
