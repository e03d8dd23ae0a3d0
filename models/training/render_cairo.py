"""Rendering path 2 (robustness only, never used for training): pycairo.

Draws the same scene labels as render_pil with independently written code: cairo's own
anti-aliasing and paths, its own shape proportions (slimmer star, thinner ring, rounded
square corners, thicker cross), occasional outlines, its own backgrounds (radial gradients,
three-stop linear gradients, dots, checks), other canvas sizes including non-square ones
(the label's content square sits in the centre, which is what CLIP's centre crop keeps),
and JPEG compression at quality 40-90 (Pillow only encodes the JPEG).
"""
from __future__ import annotations

import colorsys
import io
import math
import random

import cairo
import numpy as np
from PIL import Image

CANVASES = [(96, 96), (112, 112), (176, 176), (200, 150), (240, 160), (150, 200)]


def _tint(rng: random.Random, dark: bool):
    l = rng.uniform(0.10, 0.22) if dark else rng.uniform(0.78, 0.96)
    return colorsys.hls_to_rgb(rng.random(), l, rng.uniform(0.0, 0.4))


def _background(ctx: cairo.Context, rng: random.Random, w: int, h: int) -> None:
    dark = rng.random() < 0.2
    kind = rng.choice(["flat", "radial", "linear3", "dots", "checks"])
    a = _tint(rng, dark)
    if kind == "radial":
        pat = cairo.RadialGradient(w * rng.random(), h * rng.random(), 0, w / 2, h / 2, max(w, h))
        pat.add_color_stop_rgb(0, *a)
        pat.add_color_stop_rgb(1, *_tint(rng, dark))
        ctx.set_source(pat)
    elif kind == "linear3":
        pat = cairo.LinearGradient(0, rng.random() * h, w, rng.random() * h)
        for stop in (0, 0.5, 1):
            pat.add_color_stop_rgb(stop, *_tint(rng, dark))
        ctx.set_source(pat)
    else:
        ctx.set_source_rgb(*a)
    ctx.paint()
    if kind in ("dots", "checks"):
        shade = 0.06 if not dark else 0.05
        r, g, b = (max(0.0, c - shade) if not dark else min(1.0, c + shade) for c in a)
        ctx.set_source_rgb(r, g, b)
        step = rng.uniform(7, 14)
        for iy in range(int(h / step) + 1):
            for ix in range(int(w / step) + 1):
                if kind == "dots":
                    ctx.arc(ix * step + step / 2, iy * step + step / 2, step * 0.18, 0, 2 * math.pi)
                    ctx.fill()
                elif (ix + iy) % 2 == 0:
                    ctx.rectangle(ix * step, iy * step, step, step)
                    ctx.fill()


def _path(ctx: cairo.Context, shape: str, r: float) -> None:
    """Path of `shape` around the origin (the caller translates and rotates)."""
    if shape == "circle":
        ctx.arc(0, 0, r, 0, 2 * math.pi)
    elif shape == "ring":
        ctx.arc(0, 0, r, 0, 2 * math.pi)
        ctx.new_sub_path()
        ctx.arc_negative(0, 0, r * 0.6, 2 * math.pi, 0)
    elif shape == "square":
        s, c = r * 0.84, r * 0.12  # slightly rounded corners
        ctx.move_to(-s + c, -s)
        for (x0, y0, a0) in ((s - c, -s + c, -math.pi / 2), (s - c, s - c, 0), (-s + c, s - c, math.pi / 2), (-s + c, -s + c, math.pi)):
            ctx.arc(x0, y0, c, a0, a0 + math.pi / 2)
        ctx.close_path()
    elif shape == "triangle":
        for k in range(3):
            a = math.radians(-90 + 120 * k)
            ctx.line_to(r * 1.02 * math.cos(a), r * 1.02 * math.sin(a) + r * 0.2)
        ctx.close_path()
    elif shape == "star":
        for k in range(10):
            rad = r if k % 2 == 0 else r * 0.38
            a = math.radians(-90 + 36 * k)
            ctx.line_to(rad * math.cos(a), rad * math.sin(a) + r * 0.08)
        ctx.close_path()
    elif shape == "cross":
        a, b = r * 0.85, r * 0.34
        for x, y in [(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)]:
            ctx.line_to(x, y)
        ctx.close_path()
    else:
        raise ValueError(shape)


def render(label: dict, canvas: tuple[int, int] | None = None, quality: int | None = None) -> tuple[Image.Image, dict]:
    """(JPEG-decoded RGB image, {width, height, quality}); canvas / quality drawn from the label if None."""
    rng = random.Random(f"cairo/{label['id']}/{label['background_seed']}")
    w, h = canvas or rng.choice(CANVASES)
    quality = quality or rng.randint(40, 90)
    surface = cairo.ImageSurface(cairo.FORMAT_RGB24, w, h)
    ctx = cairo.Context(surface)
    ctx.set_antialias(cairo.ANTIALIAS_GOOD)
    _background(ctx, rng, w, h)
    side = min(w, h)
    ox, oy = (w - side) / 2, (h - side) / 2
    for inst in label["instances"]:
        ctx.save()
        ctx.translate(ox + inst["x"] * side, oy + inst["y"] * side)
        ctx.rotate(math.radians(inst["rotation"]))
        _path(ctx, inst["shape"], inst["r"] * side)
        ctx.set_fill_rule(cairo.FILL_RULE_EVEN_ODD)
        r, g, b = (c / 255 for c in inst["rgb"])
        ctx.set_source_rgb(r, g, b)
        if rng.random() < 0.3:  # outline in a darker shade of the same colour
            ctx.fill_preserve()
            ctx.set_source_rgb(r * 0.7, g * 0.7, b * 0.7)
            ctx.set_line_width(max(1.0, side / 90))
            ctx.stroke()
        else:
            ctx.fill()
        ctx.restore()
    surface.flush()
    # Cairo's RGB24 is native-endian 32-bit xRGB: bytes B, G, R, x on little-endian machines.
    buf = np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(h, surface.get_stride() // 4, 4)[:, :w]
    rgb = np.ascontiguousarray(buf[..., [2, 1, 0]])
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, format="JPEG", quality=quality)
    out.seek(0)
    return Image.open(out).convert("RGB"), {"width": w, "height": h, "quality": quality}
