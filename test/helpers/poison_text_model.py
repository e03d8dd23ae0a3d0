#!/usr/bin/env python3
"""Rewrites a CLIP text tower so that it fails at run time for some inputs (test/model-runtime-failures.test.ts).

    python3 poison_text_model.py IN.onnx OUT.onnx TOKEN_ID

The output is the same model plus a side branch: Gather(table[2], Cast(input_ids == TOKEN_ID) * 7).
The index is 0 (in range) for every other token, so the embeddings are unchanged (the branch adds
0.0 to them); a batch that contains TOKEN_ID anywhere gathers index 7 of a 2-element table and
ONNX Runtime fails the run ("indices element out of data bounds"). Nothing in the branch is
constant, so graph optimisation cannot fold it away.
"""
import sys

import onnx
from onnx import TensorProto, helper

src, dst, token = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = onnx.load(src)
graph = model.graph
out = graph.output[0]
inp = graph.input[0].name
original = out.name
# The tower's last node now writes an internal name; the new last node writes the output name.
for node in graph.node:
    for i, name in enumerate(node.output):
        if name == original:
            node.output[i] = original + "__unpoisoned"
graph.initializer.extend(
    [
        helper.make_tensor("poison_token", TensorProto.INT64, [], [token]),
        helper.make_tensor("poison_scale", TensorProto.INT64, [], [7]),
        helper.make_tensor("poison_table", TensorProto.FLOAT, [2], [0.0, 0.0]),
    ]
)
graph.node.extend(
    [
        helper.make_node("Equal", [inp, "poison_token"], ["poison_hit"]),
        helper.make_node("Cast", ["poison_hit"], ["poison_hit_i64"], to=TensorProto.INT64),
        helper.make_node("Mul", ["poison_hit_i64", "poison_scale"], ["poison_index"]),
        helper.make_node("Gather", ["poison_table", "poison_index"], ["poison_values"], axis=0),
        helper.make_node("ReduceSum", ["poison_values"], ["poison_zero"], keepdims=0),
        helper.make_node("Add", [original + "__unpoisoned", "poison_zero"], [original]),
    ]
)
onnx.checker.check_model(model)
onnx.save(model, dst)
