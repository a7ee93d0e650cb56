"""ONNX Runtime timing of ramplus.onnx, batch 1, intra_op_num_threads=2, ORT_ENABLE_ALL.

usage: python bench_ort.py [N]   (N timed runs after one warm-up; default 5)
Run export_onnx.py first. Also checks the logits against the PyTorch reference.
"""
import os
import resource
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

# The exported model (1.3 GB with its weights) and the reference logits live outside the
# repository: $RAMKIT_BASELINE_DIR, default /tmp/ramkit-baseline.
HERE = os.environ.get("RAMKIT_BASELINE_DIR", "/tmp/ramkit-baseline")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for f in ("ramplus.onnx", "ramplus_ref.npz"):
        if not os.path.exists(os.path.join(HERE, f)):
            sys.exit(f"bench_ort.py: {os.path.join(HERE, f)} not found: run `python3 export_onnx.py` first "
                     "(with the same RAMKIT_BASELINE_DIR)")
    ref = np.load(os.path.join(HERE, "ramplus_ref.npz"))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(os.path.join(HERE, "ramplus.onnx"), so,
                                providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: ref["image"]}
    y = sess.run(None, feed)[0]  # warm-up
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        y = sess.run(None, feed)[0]
        times.append(time.perf_counter() - t0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux
    diff = float(np.abs(y - ref["logits"]).max())
    print(f"onnxruntime {ort.__version__}, intra_op_num_threads=2, ORT_ENABLE_ALL, batch 1, "
          f"logits {y.shape}, max |diff| vs PyTorch {diff:.2e} ({'OK' if diff <= 1e-3 else 'MISMATCH'})")
    print(f"median_s: {statistics.median(times):.3f}")
    print("runs_s: " + " ".join(f"{t:.3f}" for t in times))
    print(f"peak_rss_mib: {rss_mib:.0f}")
    sys.exit(0 if diff <= 1e-3 else 1)


if __name__ == "__main__":
    main()
