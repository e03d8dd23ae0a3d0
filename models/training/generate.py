#!/usr/bin/python3
"""Write a deterministic evaluation (or gallery) set: images, labels, captions, queries.

    /usr/bin/python3 models/training/generate.py OUT_DIR --split test --mode seen --n 1000 --path pil
    /usr/bin/python3 models/training/generate.py OUT_DIR ... --path cairo   # same labels, other renderer

OUT_DIR/captions.csv: image,caption (the standard caption-set format `crossmodal eval` reads)
OUT_DIR/set.json:
  scenes:   [{file, label (objects + relation), held_out, captions: [5 texts]}]
  captions: [{text, scene, relevant: [scene indices the caption is true of]}]   (5 per scene)
  queries:  {single: [...], compositional: [...]}: {text, kind, relevant: [...]}; single-attribute
            queries are "a red shape" / "a star" for every colour and shape; compositional ones are
            colour + shape + position and count + colour + shape for every combination with at
            least 5 relevant scenes in the set (so precision@5 can reach 1)
  classify: {colour | shape | count: {labels: [...], values: [...], templates: [...],
            scenes: [indices of single-kind scenes], truth: [label index per listed scene]}}
Relevance is captions.satisfies(label, spec): the same semantics the model was trained with.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import captions  # noqa: E402
import scenes  # noqa: E402

CAPTIONS_PER_SCENE = 5
CLASSIFY_TEMPLATES = ["{}", "a photo of {}.", "a picture of {}."]


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def relevant(labels: list[dict], spec: dict) -> list[int]:
    return [i for i, lab in enumerate(labels) if captions.satisfies(lab, spec)]


def build(split: str, mode: str, n: int) -> tuple[list[dict], dict]:
    labels = [scenes.make_label(split, i, mode) for i in range(n)]
    out_scenes, out_caps = [], []
    for i, lab in enumerate(labels):
        caps = captions.captions_for(lab, CAPTIONS_PER_SCENE, "eval")
        out_scenes.append({"label": {k: lab[k] for k in ("id", "objects", "relation")}, "held_out": lab["held_out"],
                           "captions": [t for t, _ in caps], "_instances": lab["instances"],
                           "_seed": lab["background_seed"]})
        for t, spec in caps:
            out_caps.append({"text": t, "scene": i, "relevant": relevant(labels, spec)})

    single = []
    for c in scenes.COLOURS:
        single.append({"text": f"{article(c)} {c} shape", "kind": "colour", "relevant": relevant(labels, {"groups": [{"colour": c}]})})
    for s in scenes.SHAPES:
        single.append({"text": f"{article(s)} {s}", "kind": "shape", "relevant": relevant(labels, {"groups": [{"shape": s}]})})
    compositional = []
    plural = {s: captions.SHAPE_WORDS[s][0][1] for s in scenes.SHAPES}
    for c in scenes.COLOURS:
        for s in scenes.SHAPES:
            for p in ("left", "right", "top", "bottom", "centre"):
                spec = {"groups": [{"colour": c, "shape": s, "position": p}]}
                rel = relevant(labels, spec)
                if len(rel) >= 5:
                    where = captions.POSITION_WORDS[p][0]
                    compositional.append({"text": f"{article(c)} {c} {s} {where}", "kind": "colour+shape+position", "relevant": rel})
            for k, word in ((1, "one"), (2, "two"), (3, "three")):
                spec = {"groups": [{"colour": c, "shape": s, "count": k}]}
                rel = relevant(labels, spec)
                if len(rel) >= 5:
                    noun = s if k == 1 else plural[s]
                    compositional.append({"text": f"{word} {c} {noun}", "kind": "count+colour+shape", "relevant": rel})

    single_kind = [i for i, lab in enumerate(labels) if len(lab["objects"]) == 1]
    classify = {
        "colour": {"labels": [f"{article(c)} {c} shape" for c in scenes.COLOURS], "values": list(scenes.COLOURS)},
        "shape": {"labels": [f"{article(s)} {s}" for s in scenes.SHAPES], "values": scenes.SHAPES},
        "count": {"labels": ["one shape", "two shapes", "three shapes"], "values": [1, 2, 3]},
    }
    for attr, c in classify.items():
        c["templates"] = CLASSIFY_TEMPLATES
        c["scenes"] = single_kind
        c["truth"] = [c["values"].index(labels[i]["objects"][0][attr]) for i in single_kind]
    return out_scenes, {"captions": out_caps, "queries": {"single": single, "compositional": compositional},
                        "classify": classify}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--split", default="test")
    ap.add_argument("--mode", default="seen", choices=["seen", "held", "any"])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--path", default="pil", choices=["pil", "cairo"])
    ap.add_argument("--size", type=int, default=128, help="canvas side for the pil path")
    ap.add_argument("--format", default="png", choices=["png", "jpg"], help="pil path file format")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality for --format jpg")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    out_scenes, rest = build(args.split, args.mode, args.n)
    for i, sc in enumerate(out_scenes):
        label = {**sc["label"], "instances": sc.pop("_instances"), "background_seed": sc.pop("_seed")}
        if args.path == "pil":
            import render_pil

            img = render_pil.render(label, args.size)
            name = f"{label['id']}.{args.format}"
            if args.format == "jpg":
                img.save(args.out / name, quality=args.quality)
            else:
                img.save(args.out / name)
        else:
            import render_cairo

            img, info = render_cairo.render(label)
            name = f"{label['id']}.png"  # already JPEG-decoded; PNG keeps exactly those pixels
            img.save(args.out / name)
            sc["render"] = info
        sc["file"] = name
    doc = {"split": args.split, "mode": args.mode, "path": args.path, "scenes": out_scenes, **rest}
    (args.out / "set.json").write_text(json.dumps(doc))
    # The same scenes and captions as a plain caption set, so `crossmodal eval captions.csv`
    # measures the model on them with the standard protocol (RFC 4180 quoting via csv).
    with open(args.out / "captions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["image", "caption"])
        for c in rest["captions"]:
            w.writerow([out_scenes[c["scene"]]["file"], c["text"]])
    q = rest["queries"]
    print(f"[generate] {len(out_scenes)} scenes ({args.path}) -> {args.out}; {len(rest['captions'])} captions, "
          f"{len(q['single'])} single-attribute and {len(q['compositional'])} compositional queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
