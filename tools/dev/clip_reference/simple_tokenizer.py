"""Reference CLIP tokenizer: a faithful port of OpenAI CLIP's simple_tokenizer.py.

Upstream: https://github.com/openai/CLIP/blob/main/clip/simple_tokenizer.py
(MIT License, Copyright (c) 2021 OpenAI) plus `clip.tokenize` from clip/clip.py.

Differences from upstream, all deliberate:

* The vocabulary is read from the Hugging Face files `vocab.json` + `merges.txt`
  (what our model bundles ship) instead of `bpe_simple_vocab_16e6.txt.gz`.
  `derive_vocab_and_merges` reproduces upstream's in-memory construction from the
  raw BPE file, so both routes give the identical encoder and merge ranks.
* ftfy is optional. Upstream always calls `ftfy.fix_text` in `basic_clean`; it is
  NOT installed on the fixture-generation machine, so it is applied only when it
  happens to be importable. For the fixture captions (plain NFC text, no mojibake,
  no curly quotes, no full-width forms, no HTML entities) ftfy is a no-op, so the
  recorded token ids are the same either way.
* `tokenize` returns numpy int64 ids (the dtype the ONNX text model takes) and the
  true (post-truncation) lengths, and always truncates like upstream's
  `truncate=True`: the sequence is cut to `context_length` and its last slot is
  forced to <|endoftext|>, so the end-of-text token is always present and last.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import regex as re

try:  # Optional, see module docstring.
    import ftfy  # type: ignore
except ImportError:  # pragma: no cover - the expected case on the build machine
    ftfy = None

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
# Upstream keeps only the first 49152 - 256 - 2 merges of bpe_simple_vocab_16e6:
# 256 byte tokens (x2 with </w>) + 48894 merges + 2 specials = 49408 ids.
NUM_MERGES = 49152 - 256 - 2

# Identical to upstream. regex (not re) is required for \p{L} / \p{N}.
PAT = re.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    re.IGNORECASE,
)


@lru_cache()
def bytes_to_unicode() -> Dict[int, str]:
    """Reversible byte -> printable unicode char map (GPT-2 / CLIP byte-level BPE).

    Printable latin-1 bytes map to themselves, the other 68 bytes are shifted to
    U+0100.. so that no BPE symbol is whitespace or a control character.
    Dict insertion order matters: the first 256 vocab ids are its values in order.
    """
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word: Sequence[str]) -> set:
    """Set of adjacent symbol pairs in a word (a tuple of variable-length symbols)."""
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text: str) -> str:
    if ftfy is not None:
        text = ftfy.fix_text(text)
    # Twice, as upstream: handles double-escaped entities such as "&amp;amp;".
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    return text.strip()


def derive_vocab_and_merges(bpe_text: str) -> Tuple[List[str], List[Tuple[str, str]]]:
    """Build (vocab list in id order, merges) exactly like upstream's __init__.

    `bpe_text` is the decompressed content of bpe_simple_vocab_16e6.txt; its first
    line is a header and is skipped.
    """
    lines = bpe_text.split("\n")
    merges = [tuple(m.split()) for m in lines[1 : NUM_MERGES + 1]]
    if len(merges) != NUM_MERGES or any(len(m) != 2 for m in merges):
        raise ValueError("BPE file is truncated or malformed")
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for merge in merges:
        vocab.append("".join(merge))
    vocab.extend([SOT, EOT])
    return vocab, merges


def read_hf_files(vocab_path: Path, merges_path: Path) -> Tuple[Dict[str, int], List[Tuple[str, str]]]:
    """Read Hugging Face style vocab.json + merges.txt (header line '#version: ...')."""
    with open(vocab_path, encoding="utf-8") as f:
        encoder = json.load(f)
    with open(merges_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines[0].startswith("#version"):
        raise ValueError(f"{merges_path}: expected a '#version' header line")
    merges = [tuple(line.split()) for line in lines[1:] if line.strip()]
    return encoder, merges[:NUM_MERGES]


class SimpleTokenizer:
    def __init__(self, vocab_path: Path | str, merges_path: Path | str):
        encoder, merges = read_hf_files(Path(vocab_path), Path(merges_path))
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self.encoder: Dict[str, int] = encoder
        self.decoder: Dict[int, str] = {v: k for k, v in encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        # Specials are pre-seeded so that a literal "<|endoftext|>" in the text (matched
        # whole by PAT) maps to the special id instead of being split by BPE.
        self.cache = {SOT: SOT, EOT: EOT}
        self.pat = PAT
        self.sot_token = self.encoder[SOT]
        self.eot_token = self.encoder[EOT]

    def bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)

        if not pairs:
            return token + "</w>"

        while True:
            # Lowest-rank (earliest learned) merge first.
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word: List[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j

                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        result = " ".join(word)
        self.cache[token] = result
        return result

    def encode(self, text: str) -> List[int]:
        """Text -> BPE ids, without <|startoftext|> / <|endoftext|>."""
        bpe_tokens: List[int] = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(" "))
        return bpe_tokens

    def decode(self, tokens: Iterable[int]) -> str:
        text = "".join(self.decoder[token] for token in tokens)
        return (
            bytearray(self.byte_decoder[c] for c in text)
            .decode("utf-8", errors="replace")
            .replace("</w>", " ")
        )

    def tokenize(self, texts: str | Sequence[str], context_length: int = 77):
        """clip.tokenize(texts, context_length, truncate=True) -> (ids, lengths).

        ids: int64 [N, context_length] = [SOT, tokens..., EOT, 0, 0, ...]; sequences
        that are too long are cut and their last slot set to EOT. lengths: the number
        of non-padding ids per row (position of EOT + 1).
        """
        import numpy as np

        if isinstance(texts, str):
            texts = [texts]
        ids = np.zeros((len(texts), context_length), dtype=np.int64)
        lengths = np.zeros((len(texts),), dtype=np.int64)
        for i, text in enumerate(texts):
            tokens = [self.sot_token] + self.encode(text) + [self.eot_token]
            if len(tokens) > context_length:
                tokens = tokens[:context_length]
                tokens[-1] = self.eot_token
            ids[i, : len(tokens)] = tokens
            lengths[i] = len(tokens)
        return ids, lengths
