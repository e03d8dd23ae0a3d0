#!/usr/bin/python3
"""Moves the largest initializer of an ONNX model into an external data file (test helper).

    external_data_model.py SOURCE TARGET LOCATION DATA_FILE

TARGET is SOURCE with that initializer stored as external data at LOCATION (written into the
model as given: relative to TARGET's directory, or absolute), its bytes written to DATA_FILE.
Used by test/bundle-external-data.test.ts to check that a bundle's ONNX files cannot make
crossmodal read outside the bundle (a LOCATION like ../../x.bin) while legitimate external data
beside the model still loads.
"""
import sys

import onnx
from onnx import TensorProto, numpy_helper


def main(source, target, location, data_file):
    model = onnx.load(source)
    largest = max(model.graph.initializer, key=lambda t: numpy_helper.to_array(t).nbytes)
    data = numpy_helper.to_array(largest).tobytes()
    with open(data_file, "wb") as f:
        f.write(data)
    largest.ClearField("raw_data")
    for field in ("float_data", "int32_data", "int64_data", "double_data"):
        largest.ClearField(field)
    largest.data_location = TensorProto.EXTERNAL
    del largest.external_data[:]
    for key, value in (("location", location), ("offset", "0"), ("length", str(len(data)))):
        entry = largest.external_data.add()
        entry.key = key
        entry.value = value
    with open(target, "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main(*sys.argv[1:5])
