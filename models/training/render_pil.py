"""Rendering path 1 (training, gallery, main evaluation): Pillow + numpy.

Backgrounds are tints, linear gradients, noise or stripes; each object is drawn as a
coverage mask at 4x resolution and box-filtered down (anti-aliased edges), then blended
with its own colour. Square canvases only (the content square is the whole picture).
"""
from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4


def shape_polygon(shape: str, cx: float, cy: float, r: float, rotation_deg: float) -> list[tuple[float, float]]:
    """Outline of a polygonal shape centred at (cx, cy) with 'radius' r (pixels)."""
    if shape == "square":
        s = r * 0.86
        pts = [(-s, -s), (s, -s), (s, s), (-s, s)]
    elif shape == "triangle":
        pts = [(r * math.cos(a), r * math.sin(a) + r * 0.15) for a in (math.radians(-90 + 120 * k) for k in range(3))]
    elif shape == "star":
        pts = []
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.42
            a = math.radians(-90 + 36 * k)
            pts.append((rad * math.cos(a), rad * math.sin(a) + r * 0.05))
    elif shape == "cross":
        a, b = r * 0.9, r * 0.3
        pts = [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]
    else:
        raise ValueError(shape)
    t = math.radians(rotation_deg)
    c, s_ = math.cos(t), math.sin(t)
    return [(cx + x * c - y * s_, cy + x * s_ + y * c) for x, y in pts]


def background(rng: np.random.Generator, size: int) -> np.ndarray:
    """float32 HxWx3 in 0..255: a light or (less often) dark tint with some texture."""
    import colorsys

    dark = rng.random() < 0.2
    def tint():
        h = rng.random()
        l = rng.uniform(0.12, 0.24) if dark else rng.uniform(0.80, 0.95)
        s = rng.uniform(0.0, 0.35)
        return np.array(colorsys.hls_to_rgb(h, l, s), dtype=np.float32) * 255

    kind = rng.choice(["flat", "gradient", "noise", "stripes"])
    base = np.broadcast_to(tint(), (size, size, 3)).astype(np.float32)
    if kind == "gradient":
        other = tint()
        a = rng.uniform(0, 2 * math.pi)
        y, x = np.mgrid[0:size, 0:size] / (size - 1)
        t = ((x - 0.5) * math.cos(a) + (y - 0.5) * math.sin(a)) * 0.7 + 0.5
        base = base * (1 - t[..., None]) + other * t[..., None]
    elif kind == "noise":
        base = base + rng.normal(0, rng.uniform(3, 10), (size, size, 1)).astype(np.float32)
    elif kind == "stripes":
        period = rng.uniform(6, 18) * size / 128
        a = rng.uniform(0, math.pi)
        y, x = np.mgrid[0:size, 0:size]
        phase = (x * math.cos(a) + y * math.sin(a)) / period
        amp = rng.uniform(6, 16) * (1 if not dark else 0.6)
        base = base + (amp * (np.floor(phase) % 2 - 0.5))[..., None]
    return base


def render(label: dict, size: int = 128) -> Image.Image:
    rng = np.random.default_rng(label["background_seed"])
    img = background(rng, size).astype(np.float32)
    big = size * SUPERSAMPLE
    for inst in label["instances"]:
        mask = Image.new("L", (big, big), 0)
        draw = ImageDraw.Draw(mask)
        cx, cy, r = inst["x"] * big, inst["y"] * big, inst["r"] * big
        if inst["shape"] == "circle":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        elif inst["shape"] == "ring":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
            ri = r * 0.55
            draw.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=0)
        else:
            draw.polygon(shape_polygon(inst["shape"], cx, cy, r, inst["rotation"]), fill=255)
        alpha = np.asarray(mask.resize((size, size), Image.BOX), dtype=np.float32)[..., None] / 255
        colour = np.array(inst["rgb"], dtype=np.float32)
        img = img * (1 - alpha) + colour * alpha
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")
