#!/usr/bin/python3
"""Render the demo gallery: models/shapes-gallery/ (committed, shipped with the package).

    /usr/bin/python3 models/training/make_gallery.py [--n 300] [--held 40]

Scenes of the 'gallery' split, never used in training: n - held with seen attribute
combinations and `held` containing a held-out (shape, colour) pair (purple star, orange ring,
pink square). Drawn by render_pil at 128x128, JPEG quality 90. gallery.json lists, per image,
the file, five captions and the label (objects with shape/colour/size/count/position,
the relation of two objects, held_out).
"""
from __future__ import annotations

import argparse
import json
import shutil

import common  # noqa: F401
from common import REPO

import captions
import render_pil
import scenes

OUT = REPO / "models/shapes-gallery"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--held", type=int, default=40)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    out = common.Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    items = []
    modes = [("seen", i) for i in range(args.n - args.held)] + [("held", i) for i in range(args.held)]
    for mode, i in modes:
        label = scenes.make_label("gallery", i, mode)
        name = f"{label['id']}.jpg"
        render_pil.render(label, 128).save(out / name, quality=90)
        items.append({"file": name, "captions": [t for t, _ in captions.captions_for(label, 5, "gallery")],
                      "label": {"objects": label["objects"], "relation": label["relation"], "held_out": label["held_out"]}})
    doc = {
        "description": "Synthetic coloured-shape scenes for the crossmodal demo (models/training/make_gallery.py); "
                       "none was used to train models/shapes-clip. held_out marks scenes with a (shape, colour) "
                       "pair never seen in training.",
        "held_out_pairs": [f"{c} {s}" for s, c in scenes.HELD_OUT],
        "images": items,
    }
    (out / "gallery.json").write_text(json.dumps(doc, indent=1) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"[gallery] {len(items)} scenes -> {out.relative_to(REPO)} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
