#!/usr/bin/python3
"""Generates test/fixtures/images/: image files covering the decoders, orientations and odd
sizes, plus Pillow's preprocessed output for two configs (Debian 12: Pillow 9.4 + numpy).

  /usr/bin/python3 tools/dev/generate_image_fixtures.py

Everything is derived from fixed seeds, so reruns produce the same files. Written:
  <name>.<ext>                 the inputs
  configs/clip.json            CLIP: shortest edge 224, bicubic, center crop 224, OpenAI mean/std
  configs/siglip.json          SigLIP-style: fixed 256x256, bilinear, no crop, mean/std 0.5
  reference/<name>.<cfg>.png   Pillow's resized + cropped uint8 image (lossless)
  manifest.json                per input: file, format, size, EXIF orientation, description
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pillow_preprocess import reference_uint8  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "images")

CONFIGS = {
    "clip": {
        "image_processor_type": "CLIPImageProcessor",
        "do_resize": True, "size": {"shortest_edge": 224}, "resample": 3,
        "do_center_crop": True, "crop_size": {"height": 224, "width": 224},
        "do_rescale": True, "rescale_factor": 0.00392156862745098,
        "do_normalize": True, "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711], "do_convert_rgb": True,
    },
    "siglip": {
        "image_processor_type": "SiglipImageProcessor",
        "do_resize": True, "size": {"height": 256, "width": 256}, "resample": 2,
        "do_rescale": True, "rescale_factor": 0.00392156862745098,
        "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    },
}


def scene(w, h, seed, noise=2.0):
    """A photo-like synthetic image: smooth gradients, a few hard edges, fine stripes, a little
    noise. Deterministic in (w, h, seed)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xx / max(w - 1, 1), yy / max(h - 1, 1)
    r = 60 + 150 * u + 30 * np.sin(6.0 * v + seed)
    g = 90 + 100 * v + 40 * np.cos(5.0 * u - 2.0 * v)
    b = 140 + 80 * np.sin(3.0 * (u + v) + 0.5 * seed)
    img = np.stack([r, g, b], -1)
    # A disc and a rectangle (hard edges), fine stripes in one corner.
    cx, cy, rad = 0.35 * w, 0.55 * h, 0.2 * min(w, h) + 0.5
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < rad ** 2] = (230, 200, 40)
    img[(u > 0.6) & (u < 0.85) & (v > 0.15) & (v < 0.4)] = (20, 40, 90)
    stripes = (u > 0.7) & (v > 0.7)
    img[stripes] += (40 * np.sin(xx[stripes] * 1.3))[:, None]
    if noise:
        img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def exif_orientation(value):
    """A minimal big-endian TIFF/EXIF block with IFD0 = { Orientation: value }."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", 8) + ifd


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(arr, bitdepth, colortype):
    """A PNG written directly (16-bit RGB, which Pillow cannot save). arr: (h, w, spp)."""
    h, w = arr.shape[:2]
    dt = ">u2" if bitdepth == 16 else np.uint8
    rows = b"".join(b"\x00" + arr[y].astype(dt).tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def build():
    items = []  # (name, bytes, description)

    def save(name, im, desc, **kw):
        buf = io.BytesIO()
        fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}[name.rsplit(".", 1)[1]]
        im.save(buf, fmt, **kw)
        items.append((name, buf.getvalue(), desc))

    # JPEG
    save("jpeg_baseline_640x427.jpg", Image.fromarray(scene(640, 427, 1)), "baseline 4:2:0", quality=90)
    save("jpeg_444_333x201.jpg", Image.fromarray(scene(333, 201, 2)), "baseline 4:4:4", quality=95, subsampling=0)
    save("jpeg_422_301x180.jpg", Image.fromarray(scene(301, 180, 3)), "baseline 4:2:2", quality=85, subsampling=1)
    save("jpeg_progressive_517x389.jpg", Image.fromarray(scene(517, 389, 4)), "progressive", quality=85,
         progressive=True)
    save("jpeg_gray_301x199.jpg", Image.fromarray(scene(301, 199, 5)[..., 1], "L"), "grayscale", quality=88)
    save("jpeg_gray_progressive_31x19.jpg", Image.fromarray(scene(31, 19, 6)[..., 0], "L"),
         "grayscale progressive, tiny", quality=88, progressive=True)
    save("jpeg_cmyk_211x97.jpg", Image.fromarray(scene(211, 97, 7)).convert("CMYK"), "Adobe CMYK", quality=90)
    save("jpeg_restart_250x250.jpg", Image.fromarray(scene(250, 250, 8)), "restart markers, optimized Huffman",
         quality=80, optimize=True)
    save("jpeg_1x1.jpg", Image.fromarray(scene(1, 1, 9)), "1x1", quality=90)
    save("jpeg_7x3000.jpg", Image.fromarray(scene(7, 3000, 10)), "7x3000 (extreme aspect)", quality=90)
    save("jpeg_3000x7.jpg", Image.fromarray(scene(3000, 7, 11)), "3000x7 (extreme aspect)", quality=90)
    # 4000x3000: smooth (no noise) so the file stays small.
    save("jpeg_4000x3000.jpg", Image.fromarray(scene(4000, 3000, 12, noise=0)), "12 MP synthetic", quality=75)
    base = Image.fromarray(scene(120, 80, 13))
    for o in range(1, 9):
        save(f"jpeg_exif_orientation_{o}.jpg", base, f"EXIF orientation {o}", quality=92, exif=exif_orientation(o))
    # PNG
    p = scene(333, 217, 14)
    save("png_rgb_333x217.png", Image.fromarray(p), "8-bit RGB")
    alpha = np.clip(np.mgrid[0:217, 0:333][1] * 255 // 332, 0, 255).astype(np.uint8)
    save("png_rgba_333x217.png", Image.fromarray(np.dstack([p, alpha]), "RGBA"), "RGBA gradient alpha")
    save("png_gray_333x217.png", Image.fromarray(p[..., 0], "L"), "8-bit gray")
    save("png_la_333x217.png", Image.fromarray(np.dstack([p[..., 1], alpha]), "LA"), "gray + alpha")
    save("png_palette_333x217.png", Image.fromarray(p).quantize(64), "palette (64 colours)")
    pal_t = Image.fromarray(p).quantize(32)
    save("png_palette_trns_333x217.png", pal_t, "palette with tRNS", transparency=3)
    # Left half 0..255 (kept as is), right half 0..65535 (clamped to 255 by Pillow's I -> RGB).
    g16 = p[..., 2].astype(np.uint32)
    g16[:, 166:] *= 257
    save("png_gray16_333x217.png", Image.fromarray(g16.astype(np.int32), "I").convert("I;16"), "16-bit gray")
    items.append(("png_rgb16_61x37.png", raw_png(scene(61, 37, 15).astype(np.uint16) * 257 + 128, 16, 2),
                  "16-bit RGB"))
    save("png_1bit_97x61.png", Image.fromarray(scene(97, 61, 16)[..., 0] > 128), "1-bit")
    save("png_1x1.png", Image.fromarray(scene(1, 1, 17)), "1x1")
    save("png_exif_orientation_6.png", Image.fromarray(scene(90, 150, 18)), "eXIf orientation 6",
         exif=exif_orientation(6))
    # WebP
    w = scene(301, 201, 19)
    save("webp_lossy_301x201.webp", Image.fromarray(w), "lossy", quality=80)
    save("webp_lossless_301x201.webp", Image.fromarray(w), "lossless", lossless=True)
    wa = np.dstack([w, np.clip(np.mgrid[0:201, 0:301][0] * 255 // 200, 0, 255).astype(np.uint8)])
    save("webp_alpha_301x201.webp", Image.fromarray(wa, "RGBA"), "lossy with alpha", quality=80)
    save("webp_exif_orientation_8.webp", Image.fromarray(scene(140, 90, 20)), "EXIF orientation 8", quality=85,
         exif=exif_orientation(8))
    # GIF
    save("gif_palette_200x150.gif", Image.fromarray(scene(200, 150, 21)).quantize(128), "palette")
    frames = [Image.fromarray(scene(160, 120, 22 + i)).quantize(64) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    items.append(("gif_animated_160x120.gif", buf.getvalue(), "animated (first frame)"))
    return items


def main():
    os.makedirs(os.path.join(ROOT, "reference"), exist_ok=True)
    os.makedirs(os.path.join(ROOT, "configs"), exist_ok=True)
    for name, cfg in CONFIGS.items():
        with open(os.path.join(ROOT, "configs", name + ".json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
    manifest = []
    for name, data, desc in build():
        path = os.path.join(ROOT, name)
        with open(path, "wb") as f:
            f.write(data)
        with Image.open(path) as im:
            orientation = im.getexif().get(0x0112, 1)
            entry = {"file": name, "format": im.format, "mode": im.mode, "width": im.width, "height": im.height,
                     "orientation": orientation, "description": desc}
        for cfg_name, cfg in CONFIGS.items():
            ref = reference_uint8(path, cfg)
            Image.fromarray(ref).save(os.path.join(ROOT, "reference", f"{name}.{cfg_name}.png"), optimize=True)
        manifest.append(entry)
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/dev/generate_image_fixtures.py", "pillow": Image.__version__,
                   "configs": sorted(CONFIGS), "images": manifest}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(manifest)} images to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
