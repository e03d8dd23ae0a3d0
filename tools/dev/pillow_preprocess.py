#!/usr/bin/python3
"""Pillow reference for crossmodal's image pipeline (Debian 12: Pillow 9.4 + numpy).

Reproduces transformers' CLIPImageProcessor / SiglipImageProcessor PIL path (transformers itself
is not needed): Image.open -> ImageOps.exif_transpose (the default; --no-exif skips it) ->
convert("RGB") -> resize (shortest edge: int(size * long / short); or fixed height/width) with
the config's Pillow filter -> center crop (with zero padding) -> uint8 image.

The uint8 image is what is stored: the float tensor follows from it by the fixed
rescale/normalise arithmetic (float32(float64(v) * rescale) - mean) / std, so comparing the
native tensor with normalise(reference) tests the whole pipeline.

CLI (used by the tests for real photos):
  pillow_preprocess.py CONFIG.json OUT_DIR IMAGE...   writes OUT_DIR/<basename>.png per image
"""
import json
import os
import sys
from math import ceil

import numpy as np
from PIL import Image, ImageOps


def config_geometry(cfg):
    """(mode, size args, filter, crop) from a preprocessor_config.json dict (CLIP/SigLIP)."""
    siglip = "Siglip" in str(cfg.get("image_processor_type", cfg.get("feature_extractor_type", "")))
    size = cfg.get("size", {"height": 224, "width": 224} if siglip else {"shortest_edge": 224})
    if isinstance(size, int):
        size = {"height": size, "width": size} if siglip else {"shortest_edge": size}
    crop = None
    if not siglip and cfg.get("do_center_crop", True):
        c = cfg.get("crop_size", {"height": 224, "width": 224})
        crop = (c, c) if isinstance(c, int) else (c["height"], c["width"])
    return size, int(cfg.get("resample", 2 if siglip else 3)), crop, cfg.get("do_resize", True)


def resize_size(h, w, size):
    if "shortest_edge" in size:
        s = size["shortest_edge"]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        return (new_long, new_short) if w <= h else (new_short, new_long)
    return size["height"], size["width"]


def center_crop(a, ch, cw):  # transformers.image_transforms.center_crop, HWC
    oh, ow = a.shape[:2]
    top = (oh - ch) // 2
    left = (ow - cw) // 2
    if top >= 0 and top + ch <= oh and left >= 0 and left + cw <= ow:
        return a[top:top + ch, left:left + cw]
    nh, nw = max(ch, oh), max(cw, ow)
    new = np.zeros((nh, nw) + a.shape[2:], dtype=a.dtype)
    tp, lp = ceil((nh - oh) / 2), ceil((nw - ow) / 2)
    new[tp:tp + oh, lp:lp + ow] = a
    top += tp
    left += lp
    return new[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]


def reference_uint8(path, cfg, exif=True):
    """The resized + cropped uint8 RGB image (H, W, 3) Pillow's pipeline produces."""
    size, resample, crop, do_resize = config_geometry(cfg)
    with Image.open(path) as im:
        if exif:
            im = ImageOps.exif_transpose(im)
        im = im.convert("RGB")
        if do_resize:
            h, w = resize_size(im.height, im.width, size)
            im = im.resize((w, h), resample=resample)
        a = np.array(im)
    if crop:
        a = center_crop(a, crop[0], crop[1])
    return np.ascontiguousarray(a)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        cfg = json.load(f)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for path in argv[2:]:
        out = os.path.join(out_dir, os.path.basename(path) + ".png")
        Image.fromarray(reference_uint8(path, cfg)).save(out, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
