"""Scene labels for the shapes domain: what is in a picture, independent of how it is drawn.

A scene is one or two *groups*; a group is 1-3 identical-looking objects (same shape, colour
name and size) that sit together in one region of the picture. At most three objects in all.
Two groups are laid out side by side (one left, one right) or stacked (one top, one bottom),
which gives captions their spatial relation. Every object also carries its own geometry and
its own colour drawn from its colour name's range (hue, saturation, lightness jitter), so
"red" is a range of reds, never one RGB value.

Coordinates are normalised to the *content square* (0..1 on both axes, y down). Renderers map
that square onto their canvas: the PIL path fills the whole (square) canvas, the cairo path
puts it in the centre of wider or taller canvases, because CLIP's preprocessing (shortest-edge
resize, then centre crop) only ever shows the model that centre square.

Everything is a pure function of (split, index): `make_label(split, i)` is deterministic.
"""
from __future__ import annotations

import colorsys
import math
import random

SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]
# Colour name -> (hue range in degrees, saturation range, lightness range), HLS space.
COLOURS = {
    "red": ((-8, 7), (0.72, 0.95), (0.42, 0.54)),
    "orange": ((22, 33), (0.88, 1.0), (0.50, 0.58)),
    "yellow": ((48, 58), (0.85, 1.0), (0.50, 0.60)),
    "green": ((105, 140), (0.55, 0.80), (0.33, 0.46)),
    "blue": ((210, 232), (0.70, 0.90), (0.42, 0.55)),
    "purple": ((268, 290), (0.50, 0.75), (0.36, 0.48)),
    "pink": ((318, 338), (0.75, 0.95), (0.68, 0.78)),
    "gray": ((0, 360), (0.0, 0.06), (0.40, 0.55)),
}
# Radius (half the bounding box) as a fraction of the content square's side.
SIZES = {"small": (0.07, 0.085), "medium": (0.105, 0.125), "large": (0.15, 0.175)}
POSITIONS = ["left", "right", "top", "bottom", "centre"]
# Region (x0, x1, y0, y1) in which a group's object centres lie.
REGIONS = {
    "left": (0.10, 0.40, 0.16, 0.84),
    "right": (0.60, 0.90, 0.16, 0.84),
    "top": (0.16, 0.84, 0.10, 0.40),
    "bottom": (0.16, 0.84, 0.60, 0.90),
    "centre": (0.32, 0.68, 0.32, 0.68),
}
# (shape, colour) pairs that never appear in training data: a measure of generalisation.
HELD_OUT = [("star", "purple"), ("ring", "orange"), ("square", "pink")]
ROTATABLE = {"square": 18, "triangle": 20, "star": 36, "cross": 20}  # max |rotation| in degrees


def is_held_out(shape: str, colour: str) -> bool:
    return (shape, colour) in HELD_OUT


def sample_colour(rng: random.Random, name: str) -> list[int]:
    (h0, h1), (s0, s1), (l0, l1) = COLOURS[name]
    h = (rng.uniform(h0, h1) % 360) / 360
    r, g, b = colorsys.hls_to_rgb(h, rng.uniform(l0, l1), rng.uniform(s0, s1))
    return [round(r * 255), round(g * 255), round(b * 255)]


def _sample_group(rng: random.Random, mode: str, count: int, exclude: set) -> dict:
    """A (shape, colour, size) triple honouring the split's held-out rule and `exclude`."""
    while True:
        shape, colour = rng.choice(SHAPES), rng.choice(list(COLOURS))
        if (shape, colour) in exclude:
            continue
        held = is_held_out(shape, colour)
        if mode == "seen" and held:
            continue
        if mode == "held" and not held:
            continue
        # Three objects, or two large ones, must fit in one half of the picture.
        sizes = ["small", "medium"] if count == 3 else list(SIZES)
        return {"shape": shape, "colour": colour, "size": rng.choice(sizes), "count": count}


# How much further from the centre an object on the left (right, top, bottom) must be along its
# axis than across it. Without it the regions overlap in the corners, and an object at the top
# left was labelled "left" or "top" by chance: position captions were noise the model could not
# learn (position accuracy 0.29, chance 0.2, in the first conv model).
DOMINANCE = 0.06


def _clearly_in(position: str, p: tuple[float, float]) -> bool:
    dx, dy = p[0] - 0.5, p[1] - 0.5
    if position == "left":
        return -dx - abs(dy) >= DOMINANCE
    if position == "right":
        return dx - abs(dy) >= DOMINANCE
    if position == "top":
        return -dy - abs(dx) >= DOMINANCE
    if position == "bottom":
        return dy - abs(dx) >= DOMINANCE
    return True  # centre: its region is already a small central square


def _place(rng: random.Random, position: str, radius: float, count: int, placed: list) -> list[tuple[float, float]]:
    """Object centres inside `position`'s region, each clearly more left (right, ...) than anything
    else; objects may overlap a little (occlusion), never a lot."""
    x0, x1, y0, y1 = REGIONS[position]
    margin = radius + 0.02  # whole objects stay inside the picture
    x0, x1, y0, y1 = max(x0, margin), min(x1, 1 - margin), max(y0, margin), min(y1, 1 - margin)
    for attempt in range(200):
        slack = 1.0 if attempt < 100 else 0.8  # tolerate more overlap if it is crowded
        pts = []
        ok = True
        for _ in range(count):
            for _ in range(100):  # rejection sampling of the wedge inside the region's box
                p = (rng.uniform(x0, x1), rng.uniform(y0, y1))
                if _clearly_in(position, p):
                    break
            else:
                ok = False
                break
            for q, rq in [(q, radius) for q in pts] + placed:
                if math.dist(p, q) < slack * 1.55 * max(radius, rq):
                    ok = False
                    break
            if not ok:
                break
            pts.append(p)
        if ok:
            return pts
    raise RuntimeError("could not place objects")


def make_label(split: str, index: int, mode: str = "seen") -> dict:
    """The label of scene `index` of `split`. mode: 'seen' (no held-out pair anywhere),
    'held' (the first group is a held-out pair; the rest is free), 'any'."""
    rng = random.Random(f"shapes/{split}/{mode}/{index}")
    two = rng.random() < 0.45
    if two:
        counts = rng.choice([(1, 1), (1, 1), (2, 1), (1, 2)])
        first = _sample_group(rng, "held" if mode == "held" else mode, counts[0], set())
        second_mode = "seen" if mode in ("seen", "held") else "any"
        second = _sample_group(rng, second_mode, counts[1], {(first["shape"], first["colour"])})
        groups = [first, second]
        if rng.random() < 0.5:
            groups[0]["position"], groups[1]["position"] = "left", "right"
            relation = "left_of"
        else:
            groups[0]["position"], groups[1]["position"] = "top", "bottom"
            relation = "above"
        if rng.random() < 0.5:  # the held-out / first group is not always the left/top one
            groups[0]["position"], groups[1]["position"] = groups[1]["position"], groups[0]["position"]
            groups.reverse()
    else:
        count = rng.choice([1, 1, 2, 3])
        groups = [_sample_group(rng, mode, count, set())]
        groups[0]["position"] = rng.choice(POSITIONS)
        if groups[0]["position"] == "centre" and count == 3:
            groups[0]["size"] = "small"
        relation = None

    instances = []
    placed: list = []
    for gi, g in enumerate(groups):
        lo, hi = SIZES[g["size"]]
        radius = rng.uniform(lo, hi)
        for cx, cy in _place(rng, g["position"], radius, g["count"], placed):
            r = radius * rng.uniform(0.94, 1.06)
            placed.append(((cx, cy), r))
            instances.append({
                "group": gi, "shape": g["shape"], "x": round(cx, 4), "y": round(cy, 4), "r": round(r, 4),
                "rotation": round(rng.uniform(-1, 1) * ROTATABLE.get(g["shape"], 0), 2),
                "rgb": sample_colour(rng, g["colour"]),
            })
    rng.shuffle(instances)  # drawing order varies, so any group may occlude the other
    return {
        "id": f"{split}-{mode}-{index:05d}",
        "objects": groups,
        "relation": relation,  # 'left_of' / 'above': objects[0] is left of / above objects[1]
        "instances": instances,
        "background_seed": rng.getrandbits(32),
        "held_out": any(is_held_out(g["shape"], g["colour"]) for g in groups),
    }
