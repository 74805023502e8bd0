"""Download the registry's OPUS-MT models and convert them to CTranslate2 int8 (`make models`).

Needs internet (the Hugging Face hub). Never run by the tests or the service, which only
read what this script leaves on disk:

    <models_dir>/<name>/hf/        the hub files (config, weights, source/target.spm, vocab)
    <models_dir>/<name>/ct2/       CTranslate2 int8 model + source.spm/target.spm (+ vmap.txt)
    <models_dir>/<name>/REVISION   the commit that was downloaded (shown by status())

Supply chain (translation/lock.py, translation/bundle.py): every model is pinned in
translation/models.lock to a hub commit and the SHA-256 of each of its files. A model is
downloaded at its locked commit and installed only if every file matches; a model without a
pinned entry is refused. ``--update-lock`` (internet) resolves each model's ``revision`` from
models.yml to a commit, downloads it and records commit and checksums in the lock file,
which is then reviewed and committed. For servers without internet, ``--bundle OUT``
(``make models-bundle``) writes the verified hub files of every model into one archive with
a checksum manifest, and ``--import-bundle FILE`` (``make models-import BUNDLE=FILE``)
checks it against the repository's lock, installs it and converts it, offline.

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
                                      [--update-lock | --bundle OUT | --import-bundle FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from translation.bundle import import_bundle, write_bundle  # noqa: E402
from translation.lock import ModelLock, ModelLockError, sha256_file  # noqa: E402
from translation.registry import DEFAULT_REGISTRY, ModelRegistry, ModelSpec  # noqa: E402

HUB_FILES = ["*.json", "*.spm", "*.safetensors", "pytorch_model.bin", "README.md"]


def download(spec: ModelSpec, lock: ModelLock, update_lock: bool = False) -> str:
    """Put the model's hub files in ``spec.hf_dir``, verified against the lock; returns the commit.

    With ``update_lock`` the configured revision is resolved to a commit and the downloaded
    files are recorded in the lock instead of checked against it.
    """
    if not update_lock:
        locked = lock.entry(spec.name)
        if locked.hf_id != spec.hf_id:
            raise ModelLockError(
                f"{spec.name}: models.yml says {spec.hf_id}, {lock.path.name} pins {locked.hf_id}. "
                "Run --update-lock (internet) and commit the lock file.")
        if spec.hf_dir.is_dir():
            try:
                lock.verify(spec.name, spec.hf_dir)
                (spec.path / "REVISION").write_text(f"{locked.commit}\n", encoding="utf-8")
                return str(locked.commit)  # already here and exactly as locked
            except ModelLockError:
                pass  # fetch it again below
    from huggingface_hub import HfApi, snapshot_download

    if update_lock:
        commit = HfApi().model_info(spec.hf_id, revision=spec.revision).sha
        if not commit:
            raise ModelLockError(f"{spec.hf_id}@{spec.revision}: the hub did not name a commit.")
    else:
        commit = str(lock.entry(spec.name).commit)
    incoming = spec.path / "hf.download"
    shutil.rmtree(incoming, ignore_errors=True)
    snapshot_download(repo_id=spec.hf_id, revision=commit, local_dir=str(incoming),
                      allow_patterns=HUB_FILES)
    shutil.rmtree(incoming / ".cache", ignore_errors=True)
    if update_lock:
        lock.record(spec.name, spec.hf_id, commit, incoming)
    else:
        try:
            lock.verify(spec.name, incoming)
        except ModelLockError:
            rejected = spec.path / "hf.rejected"
            shutil.rmtree(rejected, ignore_errors=True)
            incoming.replace(rejected)
            raise
    shutil.rmtree(spec.hf_dir, ignore_errors=True)
    shutil.rmtree(spec.ct2_dir, ignore_errors=True)
    incoming.replace(spec.hf_dir)
    (spec.path / "REVISION").write_text(commit + "\n", encoding="utf-8")
    return commit


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--registry", type=Path, default=None, help="default: translation/models.yml")
    parser.add_argument("--lock", type=Path, default=None, help="default: the registry's .lock file")
    parser.add_argument("--only", nargs="*", default=None, help="model names to fetch")
    parser.add_argument("--vmap", choices=("lexical", "target", "none"), default="lexical",
                        help="vocabulary map to write (see above)")
    parser.add_argument("--vmap-sentences", type=int, default=1500,
                        help="texts per language to learn the lexical map from")
    parser.add_argument("--skip-existing", action="store_true",
                        help="keep models already converted (their hub files are still checked)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update-lock", action="store_true",
                      help="pin each model's configured revision: record commit and checksums in the lock")
    mode.add_argument("--bundle", type=Path, metavar="OUT", help="write the verified models to one archive")
    mode.add_argument("--import-bundle", type=Path, metavar="FILE", help="install an archive offline")
    args = parser.parse_args(argv)

    registry_path = args.registry or DEFAULT_REGISTRY
    registry = ModelRegistry.load(registry_path, models_dir=args.models_dir)
    try:
        lock = ModelLock.load(args.lock or ModelLock.default_path(registry_path))
    except ModelLockError as exc:
        print(f"! {exc}", file=sys.stderr)
        return 2
    unknown = set(args.only or ()) - set(registry.models)
    if unknown:
        print(f"Unknown model(s): {', '.join(sorted(unknown))}. Known: {', '.join(registry.models)}.",
              file=sys.stderr)
        return 2
    if args.import_bundle:
        return import_models(args, registry, lock)
    selected = [name for name in registry.models if not args.only or name in args.only]
    unpinned = [] if args.update_lock else lock.unpinned(selected)
    if unpinned:  # refused before anything is fetched
        print(f"! Not pinned in {lock.path}: {', '.join(unpinned)}. Models are installed only at a "
              "locked commit with locked checksums. On a machine with internet run "
              "`make models ARGS=--update-lock`, review and commit the lock file, then run again.",
              file=sys.stderr)
        return 2
    failures: list[str] = []
    for name in selected:
        spec = registry.models[name]
        try:
            if args.skip_existing and spec.has_ct2_files() and not args.update_lock:
                lock.verify(name, spec.hf_dir)
                print(f"= {name}: already converted, files as locked")
                continue
            sha = download(spec, lock, update_lock=args.update_lock)
            if args.bundle:
                print(f"+ {name}: {spec.hf_id}@{sha[:12]} verified")
                continue
            convert(spec, use_vmap=args.vmap == "target")
            print(f"+ {name}: {spec.hf_id}@{sha[:12]} -> {spec.ct2_dir}")
        except Exception as exc:  # report every model, then fail the command
            failures.append(name)
            print(f"! {name}: {spec.hf_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if args.update_lock:
        lock.save()
        print(f"Pinned {len(selected) - len(failures)} model(s) in {lock.path}: review the change "
              "(git diff) and commit it.")
    if args.bundle and not failures:
        write_bundle(args.bundle, lock, {name: registry.models[name].hf_dir for name in selected})
        print(f"Wrote {args.bundle} ({len(selected)} models, sha256 {sha256_file(args.bundle)}). "
              f"Install it offline with `make models-import BUNDLE={args.bundle}`.")
        return 0
    if args.bundle:
        print(f"{len(failures)} model(s) failed: {', '.join(failures)}; no bundle written.", file=sys.stderr)
        return 1
    return finish(args, registry, failures)


def import_models(args: argparse.Namespace, registry: ModelRegistry, lock: ModelLock) -> int:
    """``--import-bundle``: verify against the lock, install, convert (no network)."""
    try:
        names = import_bundle(args.import_bundle, lock, args.models_dir, set(registry.models))
    except ModelLockError as exc:
        print(f"! {exc}", file=sys.stderr)
        return 1
    failures: list[str] = []
    for name in names:
        spec = registry.models[name]
        try:
            convert(spec, use_vmap=args.vmap == "target")
            print(f"+ {name}: {spec.hf_id}@{str(lock.models[name].commit)[:12]} -> {spec.ct2_dir}")
        except Exception as exc:  # report every model, then fail the command
            failures.append(name)
            print(f"! {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return finish(args, registry, failures)


def finish(args: argparse.Namespace, registry: ModelRegistry, failures: list[str]) -> int:
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
