"""Download the registry's OPUS-MT models and convert them to CTranslate2 int8 (`make models`).

Needs internet (the Hugging Face hub). Never run by the tests or the service, which only
read what this script leaves on disk:

    <models_dir>/<name>/hf/        the hub files (config, weights, source/target.spm, vocab)
    <models_dir>/<name>/ct2/       CTranslate2 int8 model + source.spm/target.spm (+ vmap.txt)
    <models_dir>/<name>/REVISION   the commit that was downloaded (shown by status())

The vocabulary map (vmap.txt) lists the pieces of the model's *target* SentencePiece model:
OPUS-MT shares one ~58k vocabulary between source and target, so restricting the output
projection to target-language pieces roughly halves its cost at batch size 1 without
changing what the model can say. Disable with --no-vmap.

Usage:
    python scripts/download_models.py [--models-dir models] [--only opus-mt-sv-en ...]
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
    parser.add_argument("--no-vmap", action="store_true", help="do not write a vocabulary map")
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
            convert(spec, use_vmap=not args.no_vmap)
            print(f"+ {name}: {spec.hf_id}@{sha[:12]} -> {spec.ct2_dir}")
        except Exception as exc:  # report every model, then fail the command
            failures.append(name)
            print(f"! {name}: {spec.hf_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
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
