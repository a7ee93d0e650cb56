"""PIL's time for bench-image's work (not run in CI): pip install pillow numpy opencv-python-headless.

    python3 Benchmarks/bench-image/pil_reference.py [image.jpg] [runs]
"""
import os
import sys
import time

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/images/demo3_large.jpg")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
data = open(path, "rb").read()


def bench(name, fn):
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    print(f"  {name:<46} {ts[len(ts) // 2] * 1e3:8.1f} ms")


import io
im = Image.open(io.BytesIO(data)).convert("RGB")
print(f"PIL {Image.__version__}: {path} {im.size[0]}x{im.size[1]}, median of {runs} runs")
bench("decode (PIL convert RGB)", lambda: Image.open(io.BytesIO(data)).convert("RGB"))
bench("resize pil bilinear -> 384x384", lambda: im.resize((384, 384), Image.BILINEAR))
bench("resize pil bicubic -> 384x384", lambda: im.resize((384, 384), Image.BICUBIC))
bench("decode + resize pil bilinear 384 (reference)",
      lambda: Image.open(io.BytesIO(data)).convert("RGB").resize((384, 384), Image.BILINEAR))
try:
    import cv2
    a = np.asarray(im)
    w, h = im.size
    p = 384 / min(w, h)
    bench("resize cv2 bilinear short 384 + crop",
          lambda: cv2.resize(a, (int(round(w * p)), int(round(h * p))), interpolation=cv2.INTER_LINEAR))
except ImportError:
    pass
