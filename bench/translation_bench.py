"""Benchmark for the translation package (`make bench`). Prints tables; no pass/fail.

(a) Language ID on tests/translation/data/langid_heldout.tsv: ours vs plain langdetect.
(b) Translation speed on a randomly initialised model of the real OPUS-MT shape
    (6+6 layers, d_model 512, 8 heads, FFN 2048, vocabulary 58,101), built here because the
    hub cannot be reached: 20 source tokens -> exactly 24 output tokens, greedy, batch 1.
    transformers (fp32) vs CTranslate2 int8, with and without a vocabulary map; each engine
    runs in its own subprocess so its resident memory can be measured.
(c) Cache: a repeated translation served from `CachedTranslator` and from the service.
(d) Translated turn: what a non-native turn adds to a Swedish one (inbound translation plus
    the pre-translated answer), through the real TranslationService.

Usage: python bench/translation_bench.py [--runs 30] [--workdir /tmp/translation-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VOCAB = 58_101
SRC_TOKENS = 20
OUT_TOKENS = 24
# One thread by default: on a shared 2-core machine two threads per engine oversubscribe
# the CPU and transformers in particular slows down many times. BENCH_THREADS=2 on an idle one.
THREADS = int(os.environ.get("BENCH_THREADS", "1"))


# -- (a) language ID ------------------------------------------------------------------------
def bench_langid() -> None:
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    from translation.evaluation import evaluate, load_labelled
    from translation.langid import ChatLanguageDetector
    from translation.protect import Glossary

    rows = load_labelled(REPO / "tests/translation/data/langid_heldout.tsv")
    ours = ChatLanguageDetector(neutral_terms=Glossary.load().language_neutral)
    factory = DetectorFactory()
    factory.seed = 0
    factory.load_profile(PROFILES_DIRECTORY)

    def plain(text: str) -> str:
        detector = factory.create()
        detector.append(text)
        try:
            return str(detector.detect())
        except LangDetectException:
            return "und"

    print("\n(a) Language ID, held-out set:", len(rows), "lines")
    print(f"{'detector':<22}{'overall':>9}{'Swedish kept':>14}{'ms/line':>9}")
    for name, predict in (("plain langdetect", plain), ("ChatLanguageDetector", lambda t: ours.detect(t).code)):
        start = time.perf_counter()
        acc = evaluate(predict, rows)
        ms = (time.perf_counter() - start) * 1000 / len(rows)
        print(f"{name:<22}{acc.overall:>9.1%}{acc.of_label('sv'):>14.1%}{ms:>9.2f}")
    acc = evaluate(lambda t: ours.detect(t).code, rows)
    worst = sorted(acc.per_label, key=acc.of_label)[:5]
    print("lowest per language:", ", ".join(f"{c} {acc.of_label(c):.0%}" for c in worst))


# -- (b) model of the OPUS-MT shape -----------------------------------------------------------
def build_model(workdir: Path) -> Path:
    hf = workdir / "hf"
    if (hf / "model.safetensors").is_file():
        return hf
    import io

    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    hf.mkdir(parents=True, exist_ok=True)
    words = [f"w{i}" for i in range(3000)]
    lines = [" ".join(random.Random(i).sample(words, 12)) for i in range(2000)]
    for name in ("source.spm", "target.spm"):
        buf = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=buf, vocab_size=1000, model_type="unigram",
            bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1, minloglevel=2,
        )
        (hf / name).write_bytes(buf.getvalue())
    vocab = {"</s>": 0, "<unk>": 1, **{f"▁t{i}": i for i in range(2, VOCAB - 1)}, "<pad>": VOCAB - 1}
    (hf / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    config = MarianConfig(
        vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=512, encoder_layers=6, decoder_layers=6,
        encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=2048,
        decoder_ffn_dim=2048, max_position_embeddings=512, pad_token_id=VOCAB - 1,
        eos_token_id=0, decoder_start_token_id=VOCAB - 1, forced_eos_token_id=None,
        scale_embedding=True, activation_function="swish", num_beams=1,
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    with torch.no_grad():
        model.model.shared.weight[VOCAB - 1].zero_()
    model.save_pretrained(hf)
    MarianTokenizer(source_spm=str(hf / "source.spm"), target_spm=str(hf / "target.spm"),
                    vocab=str(hf / "vocab.json")).save_pretrained(hf)
    return hf


def convert(hf: Path, out: Path, vmap: str | None) -> Path:
    """vmap: None, "target" (what --vmap target writes: the target-language pieces, here a
    fixed half of the vocabulary) or "lexical" (a map of the shape translation/vmap.py learns:
    the ALWAYS most frequent tokens plus PER_SOURCE tokens for each source piece)."""
    if (out / "model.bin").is_file():
        return out
    import ctranslate2

    from translation.vmap import ALWAYS, PER_SOURCE, SPECIAL, Shortlist

    path = None
    rng = random.Random(1)
    if vmap == "target":
        path = out.parent / "vmap-target.txt"
        ids = sorted(rng.sample(range(2, VOCAB - 1), 29_000))
        Shortlist(tuple(f"▁t{i}" for i in ids), {}).write(path)
    elif vmap == "lexical":
        path = out.parent / "vmap-lexical.txt"
        always = SPECIAL + tuple(f"▁t{i}" for i in rng.sample(range(2, VOCAB - 1), ALWAYS))
        # A learnt map knows the pieces of the texts it was learnt from (~6k here, an
        # estimate), among them those of the timed sentence.
        known = set(rng.sample(range(2, VOCAB - 1), 6_000)) | set(sentence_ids())
        by_source = {f"▁t{s}": tuple(f"▁t{i}" for i in rng.sample(range(2, VOCAB - 1), PER_SOURCE))
                     for s in sorted(known)}
        Shortlist(always, by_source).write(path)
    ctranslate2.converters.TransformersConverter(str(hf)).convert(
        str(out), vmap=str(path) if path else None, quantization="int8", force=True
    )
    return out


def sentence_ids() -> list[int]:
    rng = random.Random(7)
    return [rng.randrange(2, VOCAB - 1) for _ in range(SRC_TOKENS)]


def worker(engine: str, path: Path, runs: int) -> dict[str, float]:
    """Runs in a subprocess: load one engine, time `runs` translations, report RSS."""
    source_ids = sentence_ids()
    times: list[float] = []
    candidates = VOCAB
    if engine == "transformers":
        import torch
        from transformers import MarianMTModel

        torch.set_num_threads(THREADS)
        model = MarianMTModel.from_pretrained(str(path))
        model.eval()
        ids = torch.tensor([source_ids + [0]])
        for i in range(runs + 3):
            start = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(input_ids=ids, num_beams=1, do_sample=False,
                                     min_new_tokens=OUT_TOKENS, max_new_tokens=OUT_TOKENS)
            if i >= 3:
                times.append(time.perf_counter() - start)
        produced = out.shape[1] - 1
    else:
        import ctranslate2

        translator = ctranslate2.Translator(str(path), device="cpu", compute_type="int8",
                                            intra_threads=THREADS)
        tokens = [f"▁t{i}" for i in source_ids] + ["</s>"]
        use_vmap = (path / "vmap.txt").is_file()
        if use_vmap:
            from translation.vmap import Shortlist

            shortlist = Shortlist.read(path / "vmap.txt")
            assert shortlist.covers(tokens)  # what CTranslate2Translator checks before using it
            candidates = len(shortlist.candidates(tokens))
        for i in range(runs + 3):
            start = time.perf_counter()
            result = translator.translate_batch([tokens], beam_size=1, use_vmap=use_vmap,
                                                min_decoding_length=OUT_TOKENS,
                                                max_decoding_length=OUT_TOKENS)
            if i >= 3:
                times.append(time.perf_counter() - start)
        produced = len(result[0].hypotheses[0])
    times.sort()
    return {
        "min_ms": 1000 * times[0],
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))],
        "rss_mb": _peak_rss_mb(),
        "tokens": float(produced),
        "candidates": float(candidates),
    }


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec on Linux)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_speed(workdir: Path, runs: int) -> Path:
    print(f"\n(b) Speed: OPUS-MT shape, random weights, {SRC_TOKENS} source -> {OUT_TOKENS} output "
          f"tokens, greedy, batch 1, {THREADS} threads, {runs} runs (load avg {os.getloadavg()[0]:.1f})")
    hf = build_model(workdir)
    variants = [
        ("transformers fp32", "transformers", hf),
        ("ct2 int8", "ct2", convert(hf, workdir / "ct2", None)),
        # scripts/download_models.py --vmap target: only target-language pieces (~half)
        ("ct2 int8 + target vmap", "ct2", convert(hf, workdir / "ct2-vmap-target", "target")),
        # scripts/download_models.py (default): a lexical map, here of the learnt shape
        ("ct2 int8 + lexical vmap", "ct2", convert(hf, workdir / "ct2-vmap-lexical", "lexical")),
    ]
    print(f"{'engine':<24}{'min ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'RSS MB':>9}{'tokens':>8}{'output vocab':>14}"
          f"{'p50 speed-up':>14}")
    base = None
    for label, engine, path in variants:
        run = subprocess.run(
            [sys.executable, __file__, "--worker", engine, str(path), "--runs", str(runs)],
            capture_output=True, text=True, check=True,
        )
        stats = json.loads(run.stdout.strip().splitlines()[-1])
        base = base or stats["p50_ms"]
        print(f"{label:<24}{stats['min_ms']:>9.1f}{stats['p50_ms']:>9.1f}{stats['p95_ms']:>9.1f}"
              f"{stats['rss_mb']:>9.0f}{stats['tokens']:>8.0f}{stats['candidates']:>14,.0f}"
              f"{base / stats['p50_ms']:>13.1f}x")
    print(f"load average after: {os.getloadavg()[0]:.1f} (other processes share the 2 cores: "
          "min is the best estimate of the uncontended cost)")
    return workdir / "ct2"


def bench_cache(ct2_dir: Path, hf_dir: Path) -> None:
    from translation.cache import CachedTranslator
    from translation.engines import CTranslate2Translator

    engine = CTranslate2Translator(ct2_dir, "random-opus-shape", spm_dir=hf_dir,
                                   max_decoding_length=OUT_TOKENS, intra_threads=THREADS)
    cached = CachedTranslator(engine, revision="bench")
    text = "w1 w2 w3 w4 w5 w6 w7 w8"
    start = time.perf_counter()
    cached.translate([text], "sv", "en")
    miss_ms = (time.perf_counter() - start) * 1000
    n = 10_000
    start = time.perf_counter()
    for _ in range(n):
        cached.translate([text], "sv", "en")
    hit_us = (time.perf_counter() - start) * 1e6 / n
    print("\n(c) Cache")
    print(f"first call (miss, includes model load): {miss_ms:.0f} ms; repeat (hit): {hit_us:.1f} µs")


# -- (d) a translated turn --------------------------------------------------------------------
def _output_counter(produced: list[int]) -> Callable[[list[str], list[str]], None]:
    """An engine recorder that appends each translation's output length (without </s>)."""

    def record(source: list[str], output: list[str]) -> None:
        produced.append(len([t for t in output if t != "</s>"]))

    return record


def bench_turn(workdir: Path, runs: int) -> None:
    """What a non-native turn adds to a Swedish one in gateway/turn.py: `to_swedish` of the
    message (not cached: every message differs) and `from_swedish` of each answer, which hits
    the cache because the gateway pre-translates the fixed answers at start. Everything else
    in a turn (HTTP, detection, Rasa, the database) is the same for both, so this difference
    is the added cost. Through the real TranslationService on the OPUS-MT-shaped model."""
    import shutil

    from translation.engines import CTranslate2Translator
    from translation.registry import Hop, ModelRegistry
    from translation.service import TranslationService

    hf = workdir / "hf"
    root = workdir / "turn-models"
    for name, converted in (("rand-lexical", "ct2-vmap-lexical"), ("rand-full", "ct2")):
        target = root / name / "ct2"
        if not (target / "model.bin").is_file():
            shutil.copytree(workdir / converted, target, dirs_exist_ok=True)
            for spm in ("source.spm", "target.spm"):
                shutil.copy(hf / spm, target / spm)
            if name == "rand-lexical":
                # The messages are made of this model's SentencePiece pieces: let the map know
                # them, as a map learnt from texts with these words would (50 candidates each).
                import sentencepiece

                from translation.vmap import PER_SOURCE, Shortlist

                pieces = sentencepiece.SentencePieceProcessor(model_file=str(hf / "source.spm"))
                shortlist = Shortlist.read(target / "vmap.txt")
                pick = random.Random(2)
                extra = {pieces.id_to_piece(i): tuple(f"▁t{pick.randrange(2, VOCAB - 1)}" for _ in range(PER_SOURCE))
                         for i in range(pieces.get_piece_size())}
                Shortlist(shortlist.always, {**shortlist.by_source, **extra}).write(target / "vmap.txt")
    rng = random.Random(3)
    answer = "Du ansöker om plats i förskola i e-tjänsten. Ansök fyra månader innan du behöver platsen."
    print(f"\n(d) Translated turn: added cost over a Swedish turn, {runs} messages of {SRC_TOKENS} "
          f"pieces -> {OUT_TOKENS} Swedish tokens, answer pre-translated")
    print(f"{'route':<40}{'p50 ms':>9}{'p95 ms':>9}{'tokens':>8}")
    for name, label in (("rand-lexical", "message known to the lexical map"),
                        ("rand-full", "unknown word: whole vocabulary")):
        registry = ModelRegistry.from_dict({
            "version": "bench",
            "models": {name: {"hf_id": f"local/{name}", "engine": "ct2"}},
            "languages": {"sv": {"name": "Svenska", "english": "Swedish", "native": True},
                          "pl": {"name": "Polski", "english": "Polish", "to_sv": [name], "from_sv": [name]}},
        }, root)
        service = TranslationService(registry)
        engine = service.engine_for(Hop(name))
        assert isinstance(engine, CTranslate2Translator)
        engine.max_decoding_length = OUT_TOKENS
        engine.ensure_loaded()
        service.pretranslate([answer], ["pl"])
        produced: list[int] = []
        engine.recorder = _output_counter(produced)
        times = []
        for i in range(runs + 3):
            words: list[str] = []
            while len(engine.encode(" ".join(words))) - 1 < SRC_TOKENS:
                words.append(f"w{rng.randrange(3000)}")
            message = engine._source.decode(engine.encode(" ".join(words))[:SRC_TOKENS])  # type: ignore[union-attr]
            start = time.perf_counter()
            service.to_swedish(message, "pl")
            service.from_swedish(answer, "pl")
            if i >= 3:
                times.append(time.perf_counter() - start)
        assert engine.last_used_vmap == [name == "rand-lexical"], engine.last_used_vmap
        times.sort()
        print(f"{label:<40}{1000 * statistics.median(times):>9.1f}"
              f"{1000 * times[min(len(times) - 1, int(0.95 * len(times)))]:>9.1f}"
              f"{statistics.median(produced):>8.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/translation-bench"))
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-speed", action="store_true", help="language ID only")
    parser.add_argument("--skip-langid", action="store_true", help="speed and cache only")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]), args.runs)))
        return 0
    if not args.skip_langid:
        bench_langid()
    if not args.skip_speed:
        ct2_dir = bench_speed(args.workdir, args.runs)
        bench_cache(ct2_dir, args.workdir / "hf")
        bench_turn(args.workdir, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
