"""Export RAMPlus to $RAMKIT_BASELINE_DIR/ramplus.onnx (default /tmp/ramkit-baseline) and save a
PyTorch reference.

usage: python export_onnx.py [--dynamo | --torchscript]
Default: torch.onnx.export's default exporter (dynamo in torch 2.13, needs
onnxscript), opset 18: the exporter's down-conversion to opset 17 fails
("No Adapter To Version 17 for Pad"). --dynamo forces dynamo=True (opset 18),
--torchscript forces dynamo=False (opset 17). Weights go to ramplus.onnx.data.
Writes ramplus_ref.npz (input and PyTorch logits) next to the model, then
checks ORT against it.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

import ramplus

# The exported model (1.3 GB with its weights) and the reference logits live outside the
# repository: $RAMKIT_BASELINE_DIR, default /tmp/ramkit-baseline.
HERE = os.environ.get("RAMKIT_BASELINE_DIR", "/tmp/ramkit-baseline")
OUT = os.path.join(HERE, "ramplus.onnx")
REF = os.path.join(HERE, "ramplus_ref.npz")


def main():
    os.makedirs(HERE, exist_ok=True)
    kw = {}
    if "--dynamo" in sys.argv:
        kw["dynamo"] = True
    elif "--torchscript" in sys.argv:
        kw["dynamo"] = False
    mode = {True: "dynamo", False: "torchscript"}.get(kw.get("dynamo"), "default")
    torch.set_num_threads(2)
    model = ramplus.build()
    x = ramplus.example_input()
    with torch.inference_mode():
        ref = model(x).numpy()
    np.savez(REF, image=x.numpy(), logits=ref)

    with torch.no_grad():
        torch.onnx.export(model, (x,), OUT, opset_version=17 if mode == "torchscript" else 18,
                          input_names=["image"], output_names=["logits"], **kw)
    m = onnx.load(OUT, load_external_data=False)
    print(f"exported {OUT} ({mode} exporter, "
          f"opset {m.opset_import[0].version}, {len(m.graph.node)} nodes, "
          f"{os.path.getsize(OUT) / 2**20:.0f} MiB graph"
          + (f" + {os.path.getsize(OUT + '.data') / 2**20:.0f} MiB {os.path.basename(OUT)}.data" if os.path.exists(OUT + ".data") else "")
          + ")")

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(OUT, so, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    diff = float(np.abs(got - ref).max())
    print(f"ORT vs PyTorch logits: max |diff| = {diff:.2e} (logits range {ref.min():.3f}..{ref.max():.3f}) "
          f"-> {'OK' if diff <= 1e-3 else 'MISMATCH'} (tol 1e-3)")
    sys.exit(0 if diff <= 1e-3 else 1)


if __name__ == "__main__":
    main()
