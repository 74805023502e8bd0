"""Download the registry's OPUS-MT models and convert them to CTranslate2 int8 (`make models`).

Needs internet (the Hugging Face hub). Never run by the tests or the service, which only
read what this script leaves on disk:

    <models_dir>/<name>/hf/        the hub files (config, weights, source/target.spm, vocab)
    <models_dir>/<name>/ct2/       CTranslate2 int8 model + source.spm/target.spm (+ vmap.txt)
    <models_dir>/<name>/REVISION   the commit that was downloaded (shown by status())

Vocabulary maps (vmap.txt), which make CTranslate2 several times faster at batch size 1 by
restricting the output projection to candidate tokens (--vmap):

* ``lexical`` (default): a shortlist learnt from each model's own translations
  (translation/vmap.py). The Swedish and English examples and answers in nlu_data/ are
  translated into every configured language and back, hop by hop, and every hop records
  which output pieces follow which source pieces. The engine uses the map only for
  sentences whose every piece it has seen and translates the rest over the whole
  vocabulary, so unknown words keep their translation. Learning takes a while (all models,
  --vmap-sentences texts each); nothing extra is downloaded.
* ``target``: the pieces of the model's target SentencePiece model (~half the vocabulary;
  never changes what the model can say, saves less).
* ``none``.

Usage:
    python scripts/download_models.py [--models-dir models] [--only opus-mt-sv-en ...]
                                      [--vmap lexical|target|none] [--vmap-sentences 1500]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from translation.registry import ModelRegistry, ModelSpec  # noqa: E402

HUB_FILES = ["*.json", "*.spm", "*.safetensors", "pytorch_model.bin", "README.md"]


def download(spec: ModelSpec) -> str:
    from huggingface_hub import HfApi, snapshot_download

    sha = HfApi().model_info(spec.hf_id, revision=spec.revision).sha or spec.revision
    snapshot_download(repo_id=spec.hf_id, revision=sha, local_dir=str(spec.hf_dir),
                      allow_patterns=HUB_FILES)
    (spec.path / "REVISION").write_text(sha + "\n", encoding="utf-8")
    return sha


def write_vmap(spec: ModelSpec) -> Path:
    """Always-allowed candidates = target SentencePiece pieces that are in the vocabulary."""
    import sentencepiece as spm

    vocab = json.loads((spec.hf_dir / "vocab.json").read_text(encoding="utf-8"))
    target = spm.SentencePieceProcessor(model_file=str(spec.hf_dir / "target.spm"))
    pieces = {target.id_to_piece(i) for i in range(target.get_piece_size())}
    allowed = sorted((pieces & set(vocab)) | {"</s>", "<unk>"}, key=vocab.get)
    path = spec.path / "vmap-target.txt"
    path.write_text("\t" + " ".join(allowed) + "\n", encoding="utf-8")
    return path


def convert(spec: ModelSpec, use_vmap: bool) -> None:
    import ctranslate2

    vmap = write_vmap(spec) if use_vmap else None
    ctranslate2.converters.TransformersConverter(str(spec.hf_dir)).convert(
        str(spec.ct2_dir), vmap=str(vmap) if vmap else None, quantization="int8", force=True
    )
    for name in ("source.spm", "target.spm"):
        shutil.copy(spec.hf_dir / name, spec.ct2_dir / name)


def local_corpus(nlu_dir: Path = REPO / "nlu_data") -> dict[str, list[str]]:
    """Swedish and English texts we wrote: the NLU examples and the answers."""
    import yaml

    corpus: dict[str, list[str]] = {"sv": [], "en": []}
    for path in sorted(nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            lang = ((block.get("metadata") or {}).get("language")) or "sv"
            lines = [ln.strip()[2:] for ln in str(block.get("examples", "")).splitlines()]
            corpus.setdefault(lang, []).extend(ln for ln in lines if ln)
        for variants in (data.get("responses") or {}).values():
            for variant in variants or []:
                conditions = variant.get("condition") or []
                lang = next((c.get("value") for c in conditions if c.get("name") == "language"), "sv")
                if variant.get("text"):
                    corpus.setdefault(lang, []).append(str(variant["text"]))
    return corpus


def learn_shortlists(registry: ModelRegistry, corpus: dict[str, list[str]], limit: int = 1500,
                     batch: int = 32) -> dict[str, Path]:
    """Translate our texts through every configured route and learn each model's shortlist.

    Swedish texts go out through every language's from_sv hops (and English texts through
    en's to_sv hops); what comes out in language X comes back through X's to_sv hops. Each
    CTranslate2 hop records (source pieces, output pieces); the pairs of a model become its
    vmap.txt. Models without CTranslate2 files are skipped.
    """
    import random

    from translation.engines import CTranslate2Translator
    from translation.protect import split_sentences
    from translation.service import TranslationService
    from translation.vmap import build_shortlist

    service = TranslationService(registry)
    pairs: dict[str, list[tuple[list[str], list[str]]]] = {}
    for spec in registry.models.values():
        (spec.ct2_dir / "vmap.txt").unlink(missing_ok=True)  # learn over the whole vocabulary

    def sample(lang: str) -> list[str]:
        texts = [s for t in corpus.get(lang, []) for s in split_sentences(t)]
        random.Random(0).shuffle(texts)
        return [service.protector.protect(t).text for t in texts[:limit]]

    def run(hops: tuple, texts: list[str], src: str, tgt: str) -> list[str]:
        for hop in hops:
            spec = registry.models[hop.model]
            if not spec.has_ct2_files():
                return []
            engine = service.engine_for(hop)
            if not isinstance(engine, CTranslate2Translator):
                return []
            engine.use_vmap = False
            engine.recorder = lambda s, t, name=hop.model: pairs.setdefault(name, []).append((s, t))
            out: list[str] = []
            for i in range(0, len(texts), batch):
                out += [r.text for r in engine.translate(texts[i:i + batch], src, tgt)]
            engine.recorder = None
            texts = out
        return texts

    swedish = sample("sv")
    for code, language in registry.languages.items():
        if code == "sv":
            continue
        generated = run(language.from_sv, swedish, "sv", code)
        foreign = sample(code) if corpus.get(code) else generated
        if foreign:
            run(language.to_sv, foreign, code, "sv")
        print(f"  learnt routes for {code}")
    written: dict[str, Path] = {}
    for name, model_pairs in pairs.items():
        spec = registry.models[name]
        vocab = set(json.loads((spec.hf_dir / "vocab.json").read_text(encoding="utf-8")))
        shortlist = build_shortlist(model_pairs, vocabulary=vocab)
        written[name] = shortlist.write(spec.ct2_dir / "vmap.txt")
        print(f"  {name}: vmap.txt from {len(model_pairs)} sentences, "
              f"{len(shortlist.by_source)} source pieces")
    return written


def check_tokens(registry: ModelRegistry) -> list[str]:
    """Every >>xxx<< token in the registry must be in its model's vocabulary."""
    problems: list[str] = []
    for code, language in registry.languages.items():
        for hop in (*language.to_sv, *language.from_sv):
            vocab_file = registry.models[hop.model].hf_dir / "vocab.json"
            if not hop.token or not vocab_file.is_file():
                continue
            vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
            if hop.token not in vocab:
                valid = sorted(t for t in vocab if t.startswith(">>") and t.endswith("<<"))
                problems.append(
                    f"{code}: token {hop.token!r} is not in {hop.model}'s vocabulary. "
                    f"Valid: {' '.join(valid) or '(none: not a multi-target model)'}. "
                    "Fix translation/models.yml."
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--registry", type=Path, default=None, help="default: translation/models.yml")
    parser.add_argument("--only", nargs="*", default=None, help="model names to fetch")
    parser.add_argument("--vmap", choices=("lexical", "target", "none"), default="lexical",
                        help="vocabulary map to write (see above)")
    parser.add_argument("--vmap-sentences", type=int, default=1500,
                        help="texts per language to learn the lexical map from")
    parser.add_argument("--skip-existing", action="store_true", help="keep models already converted")
    args = parser.parse_args()

    registry = ModelRegistry.load(args.registry, models_dir=args.models_dir)
    unknown = set(args.only or ()) - set(registry.models)
    if unknown:
        print(f"Unknown model(s): {', '.join(sorted(unknown))}. Known: {', '.join(registry.models)}.",
              file=sys.stderr)
        return 2
    failures: list[str] = []
    for name, spec in registry.models.items():
        if args.only and name not in args.only:
            continue
        if args.skip_existing and spec.has_ct2_files():
            print(f"= {name}: already converted")
            continue
        try:
            sha = download(spec)
            convert(spec, use_vmap=args.vmap == "target")
            print(f"+ {name}: {spec.hf_id}@{sha[:12]} -> {spec.ct2_dir}")
        except Exception as exc:  # report every model, then fail the command
            failures.append(name)
            print(f"! {name}: {spec.hf_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if args.vmap == "lexical" and not failures:
        print("Learning lexical vocabulary maps from our own texts (takes a while)...")
        learn_shortlists(registry, local_corpus(), limit=args.vmap_sentences)
    for problem in check_tokens(registry):
        failures.append(problem.split(":")[0])
        print(f"! {problem}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} model(s) failed: {', '.join(failures)}. Check the ids in "
              "translation/models.yml and the network, then run again with --only.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
