#!/usr/bin/python3
"""Export the trained checkpoint as a Hugging Face / Transformers.js CLIP bundle.

    /usr/bin/python3 models/training/export.py [--checkpoint .work/checkpoint.pt]

Writes models/shapes-clip/: config.json (model_type clip; logit_scale_init_value is the
*trained* log logit scale, which is what crossmodal and HF CLIPModel read), preprocessor /
tokenizer configs, onnx/{vision,text}_model.onnx (fp32), with --variants fp16 (default) *_fp16.onnx (weights stored
fp16, tools/dev/generate_bundle_variants.py's fp16 transform) and with --variants int8 *_quantized.onnx (dynamic int8:
every MatMul with a constant weight becomes DynamicQuantizeLinear + MatMulInteger with
per-column symmetric int8 weights). vocab.json / merges.txt are written by prune_bpe.py.
Also writes .work/torch-reference.json (torch embeddings of a few scenes and captions) for
check_bundle.mjs, which compares crossmodal's embeddings with torch's.
"""
from __future__ import annotations

import argparse
import json
import math
import warnings

import common  # noqa: F401
from common import ARCH, BUNDLE, CONTEXT_LENGTH, IMAGE_SIZE, WORK, build_models, normalise, preprocess_uint8, tokenizer

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

import generate_tiny_clip as gtc
from generate_bundle_variants import fp16_variant

import captions
import render_pil
import scenes


def hf_config(vocab_size: int, log_scale: float, steps: int) -> dict:
    # The text tower is CLIP's (text_config as Hugging Face writes it); the image tower is a small
    # CNN (common.ConvVision), which CLIPVisionConfig cannot describe: vision_config keeps only
    # what preprocessing and loaders read (image_size, num_channels, projection_dim), and the
    # "crossmodal" block says what the tower is. The ONNX I/O contract is CLIP's.
    preset = {**ARCH, "vision": {"hidden_size": 0, "layers": 0, "heads": 0, "patch_size": 0, "image_size": IMAGE_SIZE},
              "fp16_token_embedding": False}
    cfg = gtc.hf_config("shapes-clip", preset, 0)
    cfg["vision_config"] = {"model_type": "clip_vision_model", "image_size": IMAGE_SIZE, "num_channels": 3,
                            "projection_dim": ARCH["projection_dim"]}
    cfg["logit_scale_init_value"] = round(log_scale, 6)
    cfg["text_config"].update({"vocab_size": vocab_size, "max_position_embeddings": CONTEXT_LENGTH,
                               "bos_token_id": vocab_size - 2, "eos_token_id": vocab_size - 1, "pad_token_id": vocab_size - 1})
    cfg["crossmodal"] = {
        "generator": "models/training (npm run model:build)",
        "weights": f"trained on synthetic coloured-shape scenes ({steps} steps); see MODEL_CARD.md",
        "vision_tower": {"type": "conv", **{k: v for k, v in ARCH["vision"].items() if k != "type"}},
        "logit_scale": round(math.exp(log_scale), 4),
        "logit_scale_note": "logit_scale_init_value holds the trained log logit scale (what CLIPModel's logit_scale parameter is initialised from)",
        "onnx_opset": gtc.OPSET,
    }
    return cfg


def preprocessor_config() -> dict:
    cfg = dict(gtc.PREPROCESSOR_CONFIG)
    cfg["crop_size"] = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    cfg["size"] = {"shortest_edge": IMAGE_SIZE}
    return cfg


def tokenizer_configs(vocab_size: int) -> tuple[dict, dict]:
    tc = json.loads(json.dumps(gtc.TOKENIZER_CONFIG))
    tc["added_tokens_decoder"] = {
        str(vocab_size - 2): tc["added_tokens_decoder"][str(gtc.SOT_ID)],
        str(vocab_size - 1): tc["added_tokens_decoder"][str(gtc.EOT_ID)],
    }
    tc["model_max_length"] = CONTEXT_LENGTH
    return tc, gtc.SPECIAL_TOKENS_MAP


def quantize_dynamic(src, dst) -> None:
    """MatMul(x, W const [K,N]) -> DynamicQuantizeLinear(x) + MatMulInteger(x_q, W_q) * scales.

    W is quantised per output column, symmetric int8 (zero point 0); x dynamically to uint8 with
    its own scale and zero point, as onnxruntime.quantization.quantize_dynamic does."""
    model = onnx.load(str(src))
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    nodes, new_inits = [], []
    for node in g.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        if w.ndim != 2:
            nodes.append(node)
            continue
        scale = np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0
        wq = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        base = node.name.lstrip("/").replace("/", "_") or node.output[0]
        names = {k: f"{base}_{k}" for k in ("wq", "wzp", "wscale", "xq", "xscale", "xzp", "yi", "yf", "s")}
        new_inits += [numpy_helper.from_array(wq, names["wq"]),
                      numpy_helper.from_array(np.zeros(w.shape[1], np.int8), names["wzp"]),
                      numpy_helper.from_array(scale.astype(np.float32), names["wscale"])]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]], [names["xq"], names["xscale"], names["xzp"]], name=base + "_dql"),
            helper.make_node("MatMulInteger", [names["xq"], names["wq"], names["xzp"], names["wzp"]], [names["yi"]], name=base + "_mmi"),
            helper.make_node("Cast", [names["yi"]], [names["yf"]], to=TensorProto.FLOAT, name=base + "_cast"),
            helper.make_node("Mul", [names["xscale"], names["wscale"]], [names["s"]], name=base + "_scale"),
            helper.make_node("Mul", [names["yf"], names["s"]], [node.output[0]], name=base + "_rescale"),
        ]
    used = {i for n in nodes for i in n.input}
    keep = [i for i in g.initializer if i.name in used] + new_inits
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.checker.check_model(model, full_check=True)
    gtc.write_bytes(dst, model.SerializeToString())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=str(WORK / "checkpoint.pt"))
    ap.add_argument("--out", default=str(BUNDLE))
    ap.add_argument("--variants", default="fp16",
                    help="comma-separated extra precisions: fp16 (weights stored fp16; about half the size) and/or int8 "
                         "(dynamic quantisation of MatMul: it shrinks the text tower only, since the conv image tower has "
                         "no MatMul, so it is off by default; fp32 + fp16 keeps the bundle under 10 MB)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    out = common.Path(args.out).resolve()
    tok = tokenizer(out)
    vocab_size = len(tok.encoder)
    ck = torch.load(args.checkpoint)
    vision, text = build_models(vocab_size, 0)
    vision.load_state_dict(ck["vision"]), text.load_state_dict(ck["text"])
    vision.eval(), text.eval()
    log_scale = float(ck["logit_scale"].clamp(max=math.log(100)))

    gtc.write_json(out / "config.json", hf_config(vocab_size, log_scale, ck["step"]))
    gtc.write_json(out / "preprocessor_config.json", preprocessor_config())
    tc, stm = tokenizer_configs(vocab_size)
    gtc.write_json(out / "tokenizer_config.json", tc)
    gtc.write_json(out / "special_tokens_map.json", stm)

    warnings.filterwarnings("ignore")
    with torch.no_grad():
        gtc.export_onnx(vision, torch.zeros(2, 3, IMAGE_SIZE, IMAGE_SIZE), "pixel_values", "image_embeds",
                        {"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}}, out / "onnx/vision_model.onnx")
        ids = torch.from_numpy(tok.tokenize(["a photo of a red star", "two blue rings"], CONTEXT_LENGTH)[0])
        gtc.export_onnx(text, ids, "input_ids", "text_embeds",
                        {"input_ids": {0: "batch", 1: "sequence"}, "text_embeds": {0: "batch"}}, out / "onnx/text_model.onnx")
    variants = {v.strip() for v in args.variants.split(",") if v.strip()}
    unknown = variants - {"fp16", "int8"}
    if unknown:
        raise SystemExit(f"export: unknown variant(s) {sorted(unknown)}")
    for name in ("vision_model", "text_model"):
        if "fp16" in variants:
            fp16_variant(out / f"onnx/{name}.onnx", out / f"onnx/{name}_fp16.onnx", half_input=name == "vision_model")
        else:
            (out / f"onnx/{name}_fp16.onnx").unlink(missing_ok=True)
        if "int8" in variants:
            quantize_dynamic(out / f"onnx/{name}.onnx", out / f"onnx/{name}_quantized.onnx")
        else:
            (out / f"onnx/{name}_quantized.onnx").unlink(missing_ok=True)

    # Torch reference for check_bundle.mjs: a few PNG scenes and captions, embeddings normalised.
    ref_dir = WORK / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    files, pixels = [], []
    for i in range(8):
        label = scenes.make_label("test", i)
        img = render_pil.render(label, [112, 128, 144, 160][i % 4])
        f = ref_dir / f"scene-{i}.png"
        img.save(f)
        files.append(str(f))
        pixels.append(preprocess_uint8(img))
    texts = ["a photo of a red star", "two small blue rings on the left", "a green triangle above a purple circle",
             "Zürich 🚀 is not in the vocabulary", "three yellow squares"]
    with torch.no_grad():
        ie = torch.nn.functional.normalize(vision(normalise(torch.from_numpy(np.stack(pixels)))), dim=-1)
        te = torch.nn.functional.normalize(text(torch.from_numpy(tok.tokenize(texts, CONTEXT_LENGTH)[0])), dim=-1)
    (WORK / "torch-reference.json").write_text(json.dumps({
        "images": files, "texts": texts, "image_embeds": ie.tolist(), "text_embeds": te.tolist(),
        "logit_scale": math.exp(log_scale)}))
    total = 0
    for f in sorted(out.rglob("*")):
        if f.is_file() and f.name != "MODEL_CARD.md":
            total += f.stat().st_size
            print(f"[bundle] {f.relative_to(out)}: {f.stat().st_size / 1e6:.3f} MB")
    print(f"[bundle] total {total / 1e6:.2f} MB; logit scale {math.exp(log_scale):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
