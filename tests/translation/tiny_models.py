"""Build tiny but real OPUS-MT-shaped Marian models for tests (no download).

Each model gets SentencePiece models trained on a few lines, a `vocab.json` in the Marian
layout (``</s>`` = 0, ``<unk>`` = 1, ``<pad>`` last), a small `MarianConfig`, and is saved
with `save_pretrained` exactly as the hub models are. `train_pairs` then fits it for a few
hundred steps so it reproduces its training sentences; `convert_ct2` runs the real
CTranslate2 converter.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

# MarianTokenizer recommends sacremoses for Moses-style pre-processing, which these
# tests do not use.
warnings.filterwarnings("ignore", message=".*sacremoses.*")

SV_EN: list[tuple[str, str]] = [
    ("hej världen", "hello world"),
    ("tack så mycket", "thank you very much"),
    ("var är biblioteket", "where is the library"),
    ("ring [1] idag", "call [1] today"),
    ("skriv till [1] eller [2]", "write to [1] or [2]"),
    ("bussen går från [1]", "the bus leaves from [1]"),
    ("soptunnan töms på måndag", "the bin is emptied on monday"),
    ("besök [1]", "visit"),  # trained to LOSE its placeholder
]
EN_SV = [(en, sv) for sv, en in SV_EN if "[1]" not in sv or "[1]" in en]
SYMBOLS = ["[1]", "[2]", ">>swe<<"]


def _train_spm(lines: list[str], path: Path) -> None:
    import sentencepiece as spm

    buf = io.BytesIO()
    # Words next to a user-defined symbol are otherwise left out of the word vocabulary.
    plain = [re.sub(r"\[\d\]|>>\w+<<", " ", line) for line in lines]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter((lines + plain) * 4),
        model_writer=buf,
        vocab_size=200,
        model_type="word",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        hard_vocab_limit=False,
        user_defined_symbols=SYMBOLS,
        minloglevel=2,
    )
    path.write_bytes(buf.getvalue())


def build_marian(out: Path, src_lines: list[str], tgt_lines: list[str], seed: int = 0,
                 d_model: int = 64) -> Path:
    """Create and save an untrained Marian model + tokenizer in `out`."""
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out.mkdir(parents=True, exist_ok=True)
    _train_spm(src_lines, out / "source.spm")
    _train_spm(tgt_lines, out / "target.spm")
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for name in ("source.spm", "target.spm"):
        sp = spm.SentencePieceProcessor(model_file=str(out / name))
        for i in range(sp.get_piece_size()):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    size = len(vocab)
    config = MarianConfig(
        vocab_size=size, decoder_vocab_size=size, d_model=d_model,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model, decoder_ffn_dim=2 * d_model, max_position_embeddings=512,
        pad_token_id=size - 1, eos_token_id=0, decoder_start_token_id=size - 1,
        forced_eos_token_id=0, share_encoder_decoder_embeddings=True, scale_embedding=True,
        activation_function="swish", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        num_beams=1, max_length=32,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    with torch.no_grad():  # Marian convention: <pad> (the decoder start) embeds to zeros
        model.model.shared.weight[size - 1].zero_()
    tokenizer = MarianTokenizer(source_spm=str(out / "source.spm"),
                                target_spm=str(out / "target.spm"), vocab=str(out / "vocab.json"))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def train_pairs(model_dir: Path, pairs: list[tuple[str, str]], steps: int = 300) -> None:
    """Fit the saved model on `pairs` (teacher forcing, Adam) and save it again."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add contention
    tokenizer = MarianTokenizer.from_pretrained(str(model_dir))
    model = MarianMTModel.from_pretrained(str(model_dir))
    model.train()
    for name, param in model.named_parameters():
        if "embed_positions" in name:  # sinusoidal, fixed (CTranslate2 recomputes them)
            param.requires_grad = False
    batch = tokenizer([s for s, _ in pairs], text_target=[t for _, t in pairs],
                      return_tensors="pt", padding=True)
    labels = batch["labels"].masked_fill(batch["labels"] == tokenizer.pad_token_id, -100)
    optim = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(steps):
        loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                     labels=labels).loss
        optim.zero_grad()
        loss.backward()
        optim.step()
        with torch.no_grad():  # keep <pad> (decoder start) at zero, as CTranslate2 assumes
            model.model.shared.weight[tokenizer.pad_token_id].zero_()
    torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(model_dir)


def convert_ct2(hf_dir: Path, ct2_dir: Path) -> Path:
    """The real CTranslate2 converter, int8, plus the SentencePiece files next to it."""
    import shutil

    import ctranslate2

    ctranslate2.converters.TransformersConverter(str(hf_dir)).convert(
        str(ct2_dir), quantization="int8", force=True
    )
    for name in ("source.spm", "target.spm"):
        shutil.copy(hf_dir / name, ct2_dir / name)
    return ct2_dir
