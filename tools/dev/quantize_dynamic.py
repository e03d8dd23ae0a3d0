#!/usr/bin/python3
"""Dynamic int8 quantization of a CLIP tower's MatMuls, as ONNX Runtime's quantize_dynamic does it.

    /usr/bin/python3 tools/dev/quantize_dynamic.py BUNDLE_DIR [--towers vision_model,text_model]

Writes onnx/<tower>_quantized.onnx beside each onnx/<tower>.onnx: every MatMul whose weight is
a 2-D initializer becomes

    DynamicQuantizeLinear(activation) -> (uint8 x, x_scale, x_zero_point)
    MatMulInteger(x, W_int8, x_zero_point, 0)  -> int32
    Cast(float) * (x_scale * W_scale)           -> float

with the weight quantized symmetrically to int8 with one scale per tensor (per-tensor scales,
uint8 activations and int8 weights: the layout of the `*_quantized.onnx` files Transformers.js
publishes, made with onnxruntime.quantization.quantize_dynamic, which Debian does not package).
Everything else (attention MatMuls between activations, LayerNorm, Softmax) stays fp32. The
benchmark's int8 row (bench/int8.mjs) runs both crossmodal and the peer on these files.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize(source, target):
    model = onnx.load(source)
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    nodes = []
    quantized = 0
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight).astype(np.float32)
        scale = max(float(np.abs(w).max()), 1e-12) / 127.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        base = node.name or node.output[0]
        names = {k: f"{base}/quant/{k}" for k in ("w", "w_scale", "w_zp", "x", "x_scale", "x_zp", "int", "float", "scale")}
        graph.initializer.extend(
            [
                numpy_helper.from_array(q, names["w"]),
                numpy_helper.from_array(np.array(scale, dtype=np.float32), names["w_scale"]),
                numpy_helper.from_array(np.array(0, dtype=np.int8), names["w_zp"]),
            ]
        )
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]], [names["x"], names["x_scale"], names["x_zp"]]),
            helper.make_node("MatMulInteger", [names["x"], names["w"], names["x_zp"], names["w_zp"]], [names["int"]]),
            helper.make_node("Cast", [names["int"]], [names["float"]], to=TensorProto.FLOAT),
            helper.make_node("Mul", [names["x_scale"], names["w_scale"]], [names["scale"]]),
            helper.make_node("Mul", [names["float"], names["scale"]], [node.output[0]]),
        ]
        quantized += 1
    del graph.node[:]
    graph.node.extend(nodes)
    # Drop the fp32 weights no node reads any more.
    used = {i for n in graph.node for i in n.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, target)
    return quantized


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--towers", default="vision_model,text_model")
    args = parser.parse_args()
    for tower in args.towers.split(","):
        source = os.path.join(args.bundle, "onnx", f"{tower}.onnx")
        target = os.path.join(args.bundle, "onnx", f"{tower}_quantized.onnx")
        if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(source):
            print(f"[quantize] {target}: up to date")
            continue
        count = quantize(source, target)
        print(f"[quantize] {target}: {count} MatMuls int8, {os.path.getsize(target) / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
