#!/usr/bin/python3
"""Write a one-node ONNX model, Y = A · B, for measuring this CPU's sustained fp32 GEMM rate.

    /usr/bin/python3 bench/encode/make_matmul.py OUT.onnx [N]

A is an input [N, N]; B is an N × N initializer (a constant weight, as in the encoders, so
ONNX Runtime may prepack it the same way). One run is 2·N³ FLOPs. Needs Debian's python3-onnx
and numpy. Deterministic.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
b = np.random.default_rng(5).standard_normal((n, n), dtype=np.float32) * (1.0 / np.sqrt(n))
graph = helper.make_graph(
    [helper.make_node("MatMul", ["A", "B"], ["Y"])],
    f"matmul_{n}",
    [helper.make_tensor_value_info("A", TensorProto.FLOAT, [n, n])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, n])],
    [numpy_helper.from_array(b, "B")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="crossmodal-bench")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out)
print(f"[matmul] wrote {out} ({n}x{n} fp32, {2 * n**3 / 1e9:.2f} GFLOP per run)")
