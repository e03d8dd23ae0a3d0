#!/usr/bin/env python3
"""Derive the other bundle layouts the encoder runtime must load from the tiny CLIP fixture.

    /usr/bin/python3 tools/dev/generate_bundle_variants.py

Reads test/fixtures/tiny-clip (made by tools/dev/generate_tiny_clip.py) and writes:
  - test/fixtures/tiny-clip/onnx/{vision,text}_model_fp16.onnx: an fp16 variant (weights stored as
    float16 and cast back to float32 inside the graph; the image tower takes float16 pixels and
    both towers return float16 embeddings), so `precision: 'fp16'` and the runtime's dtype
    conversions are exercised;
  - test/fixtures/tiny-clip-combined/: a Transformers.js-style combined onnx/model.onnx taking
    input_ids, attention_mask and pixel_values and returning text_embeds and image_embeds; the
    other bundle files are symlinks to tiny-clip's;
  - test/fixtures/tiny-openclip/: an open_clip export (visual/model.onnx with input "image",
    textual/model.onnx with input "text", both with output "embedding", open_clip config.json and
    preprocess_cfg.json), tokenizer files symlinked.
Only onnx/numpy are needed; everything is deterministic.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "test/fixtures/tiny-clip"
COMBINED = REPO / "test/fixtures/tiny-clip-combined"
OPENCLIP = REPO / "test/fixtures/tiny-openclip"


def save(model: onnx.ModelProto, path: Path) -> None:
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    print(f"[variants] {path.relative_to(REPO)}: {path.stat().st_size / 1e6:.2f} MB")


def link(target: Path, link_path: Path) -> None:
    link_path.parent.mkdir(parents=True, exist_ok=True)
    if link_path.is_symlink() or link_path.exists():
        link_path.unlink()
    os.symlink(os.path.relpath(target, link_path.parent), link_path)


def fp16_variant(src: Path, dst: Path, half_input: bool) -> None:
    model = onnx.load(str(src))
    g = model.graph
    new_inits, casts = [], []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT:
            new_inits.append(init)
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16")
        new_inits.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT, name=init.name + "_cast"))
    del g.initializer[:]
    g.initializer.extend(new_inits)
    nodes = list(casts)
    if half_input:
        inp = g.input[0]
        orig = inp.name
        inp.name = orig + "_fp16"
        inp.type.tensor_type.elem_type = TensorProto.FLOAT16
        nodes.append(helper.make_node("Cast", [inp.name], [orig], to=TensorProto.FLOAT, name="input_cast"))
    nodes.extend(g.node)
    out = g.output[0]
    orig_out = out.name
    internal = orig_out + "_fp32"
    for node in nodes:
        node.output[:] = [internal if o == orig_out else o for o in node.output]
    nodes.append(helper.make_node("Cast", [internal], [orig_out], to=TensorProto.FLOAT16, name="output_cast"))
    out.type.tensor_type.elem_type = TensorProto.FLOAT16
    del g.node[:]
    g.node.extend(nodes)
    # The public input keeps its name: rename the graph input back and feed the cast from it.
    if half_input:
        orig = g.input[0].name[: -len("_fp16")]
        for node in g.node:
            if node.name == "input_cast":
                node.input[0] = orig
                node.output[0] = orig + "_fp32"
            else:
                node.input[:] = [orig + "_fp32" if i == orig else i for i in node.input]
        g.input[0].name = orig
    save(model, dst)


def prefixed(model: onnx.ModelProto, prefix: str, keep: set[str]) -> onnx.GraphProto:
    """The graph with every internal name prefixed (graph inputs/outputs in `keep` stay)."""
    g = onnx.GraphProto()
    g.CopyFrom(model.graph)
    ren = lambda n: n if (n in keep or n == "") else prefix + n  # noqa: E731
    for init in g.initializer:
        init.name = ren(init.name)
    for node in g.node:
        node.name = prefix + node.name
        node.input[:] = [ren(n) for n in node.input]
        node.output[:] = [ren(n) for n in node.output]
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        vi.name = ren(vi.name)
    return g


def combined(vision: onnx.ModelProto, text: onnx.ModelProto) -> onnx.ModelProto:
    vg = prefixed(vision, "vision/", {"pixel_values", "image_embeds"})
    tg = prefixed(text, "text/", {"input_ids", "text_embeds"})
    # Transformers.js' combined CLIP takes an attention mask too; CLIP's causal tower pooled at
    # the end token does not need it, so it is declared and unused, as in those exports.
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_text", "sequence"])
    graph = helper.make_graph(
        list(tg.node) + list(vg.node),
        "tiny_clip_combined",
        [tg.input[0], mask, vg.input[0]],
        [tg.output[0], vg.output[0]],
        initializer=list(tg.initializer) + list(vg.initializer),
    )
    model = helper.make_model(graph, opset_imports=vision.opset_import, producer_name="crossmodal-tools")
    model.ir_version = vision.ir_version
    return model


def renamed_io(model: onnx.ModelProto, inp: str, out: str) -> onnx.ModelProto:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    old_in, old_out = g.input[0].name, g.output[0].name
    for node in g.node:
        node.input[:] = [inp if n == old_in else n for n in node.input]
        node.output[:] = [out if n == old_out else n for n in node.output]
    g.input[0].name = inp
    g.output[0].name = out
    return m


def main() -> None:
    vision = onnx.load(str(TINY / "onnx/vision_model.onnx"))
    text = onnx.load(str(TINY / "onnx/text_model.onnx"))
    fp16_variant(TINY / "onnx/vision_model.onnx", TINY / "onnx/vision_model_fp16.onnx", half_input=True)
    fp16_variant(TINY / "onnx/text_model.onnx", TINY / "onnx/text_model_fp16.onnx", half_input=False)

    save(combined(vision, text), COMBINED / "onnx/model.onnx")
    for name in ("config.json", "preprocessor_config.json", "vocab.json", "merges.txt", "tokenizer_config.json",
                 "special_tokens_map.json"):
        link(TINY / name, COMBINED / name)

    save(renamed_io(vision, "image", "embedding"), OPENCLIP / "visual/model.onnx")
    save(renamed_io(text, "text", "embedding"), OPENCLIP / "textual/model.onnx")
    hf = json.loads((TINY / "config.json").read_text())
    (OPENCLIP / "config.json").write_text(json.dumps({
        "embed_dim": hf["projection_dim"],
        "vision_cfg": {"image_size": hf["vision_config"]["image_size"], "patch_size": hf["vision_config"]["patch_size"],
                       "width": hf["vision_config"]["hidden_size"], "layers": hf["vision_config"]["num_hidden_layers"]},
        "text_cfg": {"context_length": 77, "vocab_size": hf["text_config"]["vocab_size"],
                     "width": hf["text_config"]["hidden_size"], "layers": hf["text_config"]["num_hidden_layers"]},
    }, indent=2) + "\n")
    pre = json.loads((TINY / "preprocessor_config.json").read_text())
    (OPENCLIP / "preprocess_cfg.json").write_text(json.dumps({
        "size": [224, 224], "mode": "RGB", "mean": pre["image_mean"], "std": pre["image_std"],
        "interpolation": "bicubic", "resize_mode": "shortest",
    }, indent=2) + "\n")
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        link(TINY / name, OPENCLIP / name)


if __name__ == "__main__":
    main()
