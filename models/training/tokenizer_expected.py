#!/usr/bin/python3
"""Expected token ids for the demo model's pruned vocabulary, by the independent Python
reference tokenizer (tools/dev/clip_reference, a port of OpenAI's simple_tokenizer).

    /usr/bin/python3 models/training/tokenizer_expected.py            # rewrite the committed file
    /usr/bin/python3 models/training/tokenizer_expected.py --stdout   # print it (the test compares)

Writes test/fixtures/shapes-clip-tokenizer/expected.jsonl: one {"kind": "grammar" | "arbitrary", "text", "ids"} per line, ids as
clip.tokenize gives them at the model's context length (SOT ... EOT, truncated with EOT kept
last; padding not listed). Texts: grammar captions and their hard negatives, the evaluation's
queries and classification prompts, and arbitrary text (out-of-vocabulary words, digits,
punctuation, non-ASCII, emoji, too long for the context) that must fall back to smaller pieces.
HTML entities, curly quotes and mojibake are left out: there the OpenAI tokenizer's ftfy step
(not installed here) and crossmodal's cleanup may legitimately differ.
"""
from __future__ import annotations

import json
import random
import sys

import common  # noqa: F401
from common import BUNDLE, CONTEXT_LENGTH, REPO, tokenizer

import captions
import scenes

OUT = REPO / "test/fixtures/shapes-clip-tokenizer/expected.jsonl"
ARBITRARY = [
    "a photo of a cat",
    "A Large BLUE Star On The LEFT",
    "two red apples, one green pear!",
    "it's 2024 and 3 small circles at 07:45",
    "Café au lait on a wooden table",
    "Zürich, São Paulo, Kraków",
    "一个红色的圆圈",
    "красный круг слева",
    "a rocket 🚀 and a star ⭐",
    "xylophone quizzically juxtaposed",
    "   lots   of\twhitespace \n and  UPPERCASE   ",
    "?!",
    "",
    "medium-sized purple-ish hexagon",
    "a very long caption about three tiny yellow discs at the bottom and two big grey plus signs "
    "near the top and a single small violet donut in the middle, which is far longer than the context",
]


def texts() -> list[str]:
    out: list[str] = []
    for i in range(120):
        label = scenes.make_label("tokenizer", i, "any")
        rng = random.Random(f"tokenizer/{i}")
        for text, spec in captions.captions_for(label, 6, "tokenizer"):
            out.append(text)
        spec = captions.caption_specs(label, rng)[0]
        out.append(captions.render_caption(captions.perturb(spec, rng), rng))
    for c in scenes.COLOURS:
        out.append(f"a photo of {'an' if c[0] in 'aeiou' else 'a'} {c} shape.")
    for s in scenes.SHAPES:
        out.append(f"a picture of {'an' if s[0] in 'aeiou' else 'a'} {s}.")
    out += ["a photo of one shape.", "two shapes", "a picture of three shapes."]
    out += captions.lexicon()
    seen, uniq = set(), []
    for kind, group in (("grammar", out), ("arbitrary", ARBITRARY)):
        for t in group:
            if t not in seen:
                seen.add(t)
                uniq.append((kind, t))
    return uniq


def main() -> int:
    tok = tokenizer(BUNDLE)
    entries = texts()
    ids, lengths = tok.tokenize([t for _, t in entries], CONTEXT_LENGTH)
    lines = [json.dumps({"kind": kind, "text": t, "ids": ids[i, : lengths[i]].tolist()}, ensure_ascii=False)
             for i, (kind, t) in enumerate(entries)]
    data = "\n".join(lines) + "\n"
    if "--stdout" in sys.argv:
        sys.stdout.write(data)
    else:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(data, encoding="utf-8")
        print(f"[tokenizer] {len(lines)} texts -> {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
