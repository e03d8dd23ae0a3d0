"""Shared constants and helpers of the shapes-clip training code (paths, preprocessing,
model construction). Imports tools/dev/generate_tiny_clip.py's CLIP classes: the model here
is exactly the Hugging Face CLIP architecture crossmodal already loads and tests."""
from __future__ import annotations

import io
import sys
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / ".work"
BUNDLE = REPO / "models/shapes-clip"
sys.path.insert(0, str(REPO / "tools" / "dev"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from PIL import Image  # noqa: E402

import generate_tiny_clip as gtc  # noqa: E402
from pillow_preprocess import center_crop, resize_size  # noqa: E402

IMAGE_SIZE = 112
CONTEXT_LENGTH = 32
ARCH = {
    # The image tower is a small CNN (ConvVision below), not CLIP's ViT: a ViT with 16 px patches
    # sees a small shape (about 16 px across at 112 px) as one token, and in the 45-minute budget
    # it learnt colour but not shape (shape accuracy 0.27, see MODEL_CARD.md's history).
    "vision": {"type": "conv", "image_size": IMAGE_SIZE, "widths": [48, 96, 160], "pooling": "mean+regions", "hidden": 256},
    "text": {"hidden_size": 128, "layers": 3, "heads": 4},
    "projection_dim": 96,
}
MEAN = np.array(gtc.IMAGE_MEAN, dtype=np.float32)
STD = np.array(gtc.IMAGE_STD, dtype=np.float32)


def preprocess_uint8(img: Image.Image, size: int = IMAGE_SIZE) -> np.ndarray:
    """CLIPImageProcessor's PIL path up to the uint8 crop (HxWx3): convert RGB, shortest-edge
    resize with bicubic (Pillow, as transformers), centre crop. Rescale/normalise happen in
    torch (`normalise`), with the same float32 arithmetic."""
    img = img.convert("RGB")
    h, w = resize_size(img.height, img.width, {"shortest_edge": size})
    img = img.resize((w, h), Image.BICUBIC)
    return np.ascontiguousarray(center_crop(np.asarray(img), size, size))


def normalise(batch_u8: torch.Tensor) -> torch.Tensor:
    """[B,H,W,3] uint8 -> [B,3,H,W] float32 pixel_values as CLIPImageProcessor computes them."""
    x = (batch_u8.to(torch.float64) * gtc.RESCALE_FACTOR).to(torch.float32)
    x = (x - torch.from_numpy(MEAN)) / torch.from_numpy(STD)
    return x.permute(0, 3, 1, 2).contiguous()


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


class ShapesTextModel(gtc.TextModel):
    """generate_tiny_clip's TextModel with the pruned vocabulary and a shorter context."""

    def __init__(self, cfg: dict, projection_dim: int, vocab_size: int, context_length: int):
        super().__init__(cfg, projection_dim, fp16_token_embedding=False)
        w = cfg["hidden_size"]
        self.token_embedding = nn.Parameter(torch.empty(vocab_size, w))
        self.position_embedding = nn.Parameter(torch.empty(context_length, w))


class ConvVision(nn.Module):
    """pixel_values [B,3,112,112] -> image_embeds [B,D] (not normalised).

    A 4x4 stride-4 patch stem (28x28 cells: a small shape still spans about 4x4 of them), two 3x3
    convolutions at 28, stride-2 stages at 14 and 7 (BatchNorm, GELU). The head sees the 7x7 map
    average-pooled over the whole picture (how much of what is there: counts) and max-pooled over
    each of the five caption regions (left/right/top/bottom columns or rows, the centre 3x3): so
    "a red star on the left" is a red-star feature in the *left* slot, which binds what to where.
    (The previous head, global pooling plus a flattened 8-channel map, never learnt position:
    accuracy 0.29 against a chance of 0.2.) Exports to plain ONNX Conv/ReduceMax/Gemm ops."""

    # (rows, cols) of the 7x7 map pooled for each caption region, in POSITIONS order.
    REGIONS = {"left": (slice(0, 7), slice(0, 3)), "right": (slice(0, 7), slice(4, 7)),
               "top": (slice(0, 3), slice(0, 7)), "bottom": (slice(4, 7), slice(0, 7)),
               "centre": (slice(2, 5), slice(2, 5))}

    def __init__(self, cfg: dict, projection_dim: int):
        super().__init__()
        w1, w2, w3 = cfg["widths"]
        assert cfg["image_size"] // 16 == 7, "REGIONS assume a 7x7 map"

        def block(c_in, c_out, stride):
            return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]

        layers = [nn.Conv2d(3, w1, 4, stride=4, bias=False), nn.BatchNorm2d(w1), nn.GELU()]
        layers += block(w1, w1, 1) + block(w1, w1, 1) + block(w1, w2, 2) + block(w2, w2, 1) + block(w2, w3, 2) + block(w3, w3, 1)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear((1 + len(self.REGIONS)) * w3, cfg["hidden"]), nn.GELU(),
                                  nn.Linear(cfg["hidden"], projection_dim))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        f = self.features(pixel_values)
        pooled = [f.mean(dim=(2, 3))] + [f[:, :, r, c].amax(dim=(2, 3)) for r, c in self.REGIONS.values()]
        return self.head(torch.cat(pooled, dim=1))


def build_models(vocab_size: int, seed: int):
    torch.manual_seed(seed)
    vision = ConvVision(ARCH["vision"], ARCH["projection_dim"])  # PyTorch's default (Kaiming) init
    text = ShapesTextModel(ARCH["text"], ARCH["projection_dim"], vocab_size, CONTEXT_LENGTH)
    gen = torch.Generator().manual_seed(seed)
    for model in (text,):
        for name, p in sorted(model.named_parameters()):
            with torch.no_grad():
                if any(s in name for s in ("layer_norm", "layrnorm", "layernorm")):
                    p.fill_(1.0 if name.endswith("weight") else 0.0)
                elif name.endswith("bias"):
                    p.zero_()
                elif "embedding" in name and "patch" not in name:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
                else:  # Linear / Conv: std fan_in^-0.5, slightly damped for depth
                    p.copy_(torch.randn(p.shape, generator=gen) * (p[0].numel() ** -0.5) * 0.7)
    return vision, text


def tokenizer(bundle_dir: Path):
    from clip_reference.simple_tokenizer import SimpleTokenizer

    return SimpleTokenizer(bundle_dir / "vocab.json", bundle_dir / "merges.txt")
