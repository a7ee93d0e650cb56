"""Writes Tests/RAMImageTests/Resources/cv2_resize_cases.bin: cv2.resize outputs that
ResizeTests.testCV2ModesEqualOpenCV compares against pixel for pixel. Not run by CI.

    pip install opencv-python-headless numpy
    python3 Tests/RAMImageTests/scripts/make_cv2_resize_cases.py [--photo-dir DIR]

Format: records, each `mode:u8 width:u16le height:u16le` then width*height*3 uint8 (HWC).
mode 255 is a source image (the records after it resize that source); modes are
0 nearest, 1 linear, 2 cubic, 3 area, 4 lanczos4 (cv2.INTER_* values).

IPP is switched off (cv2.ipp.setUseIPP(False)): the fixtures are OpenCV's own resize.cpp code.
With IPP on (the pip wheel's default), INTER_CUBIC goes through Intel IPP for most sizes and
differs by up to 1 level; the script prints that difference. AREA, LANCZOS4, LINEAR and NEAREST
are the same with and without IPP.

--sweep FILE N writes N random source/output size pairs per mode to FILE instead (same format),
for the optional test testCV2RandomSweep (run with CV2_SWEEP_FILE=FILE).

--photo-dir DIR also resizes ../shared/images/demo4.jpg (decoded RGB) with every mode to a few
sizes and writes DIR/<mode>_<w>x<h>.rgb plus DIR/source.rgb + DIR/source.txt ("W H"), for the
optional test testCV2ModesOnAPhoto (run with CV2_PHOTO_DIR=DIR); nothing there is committed.
"""
import os
import struct
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Resources", "cv2_resize_cases.bin")
MODES = [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_LANCZOS4]
CHECK = [cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_LANCZOS4]

rng = np.random.default_rng(2026)
# A 37x23 random image (no integer scale but to 1 pixel) and a 36x24 one (integer scales:
# INTER_AREA's fast path), each with its list of (width, height).
SOURCES = [
    (rng.integers(0, 256, (23, 37, 3), dtype=np.uint8),
     [(45, 28), (6, 30), (20, 11), (13, 9), (5, 3), (50, 11), (20, 40), (1, 1), (37, 10), (41, 23)]),
    (rng.integers(0, 256, (24, 36, 3), dtype=np.uint8),
     [(18, 12), (12, 8), (12, 12), (9, 6), (36, 12), (24, 16), (6, 4)]),
]


def record(f, mode, a):
    h, w = a.shape[:2]
    f.write(struct.pack("<BHH", mode, w, h))
    f.write(np.ascontiguousarray(a, dtype=np.uint8).tobytes())


def main():
    cv2.ipp.setUseIPP(False)
    with open(OUT, "wb") as f:
        for src, sizes in SOURCES:
            record(f, 255, src)
            for m in CHECK:
                for s in sizes:
                    record(f, m, cv2.resize(src, s, interpolation=m))
    print("wrote", OUT, os.path.getsize(OUT), "bytes")

    # How far the wheel's default (IPP on) is from OpenCV's own code.
    for src, sizes in SOURCES:
        for m in CHECK:
            worst, count = 0, 0
            for s in sizes:
                cv2.ipp.setUseIPP(False)
                a = cv2.resize(src, s, interpolation=m).astype(int)
                cv2.ipp.setUseIPP(True)
                b = cv2.resize(src, s, interpolation=m).astype(int)
                worst = max(worst, int(np.abs(a - b).max()))
                count += int((a != b).sum())
            print(f"IPP on vs off, mode {m}, source {src.shape[1]}x{src.shape[0]}: max {worst}, {count} values differ")
    cv2.ipp.setUseIPP(False)

    if "--photo-dir" in sys.argv:
        d = sys.argv[sys.argv.index("--photo-dir") + 1]
        os.makedirs(d, exist_ok=True)
        photo = os.path.join(HERE, "..", "..", "..", "..", "shared", "images", "demo4.jpg")
        rgb = cv2.cvtColor(cv2.imread(photo), cv2.COLOR_BGR2RGB)
        rgb.tofile(os.path.join(d, "source.rgb"))
        with open(os.path.join(d, "source.txt"), "w") as t:
            t.write(f"{rgb.shape[1]} {rgb.shape[0]}\n")
        names = {cv2.INTER_NEAREST: "nearest", cv2.INTER_LINEAR: "bilinear", cv2.INTER_CUBIC: "bicubic",
                 cv2.INTER_AREA: "area", cv2.INTER_LANCZOS4: "lanczos"}
        h, w = rgb.shape[:2]
        sizes = [(384, 384), (224, 224), (w // 2, h // 2), (w // 3, h // 3), (w + w // 3, h + h // 4)]
        for m in MODES:
            for s in sizes:
                cv2.resize(rgb, s, interpolation=m).tofile(os.path.join(d, f"{names[m]}_{s[0]}x{s[1]}.rgb"))
                if m == cv2.INTER_CUBIC:
                    cv2.ipp.setUseIPP(True)
                    cv2.resize(rgb, s, interpolation=m).tofile(os.path.join(d, f"bicubic-ipp_{s[0]}x{s[1]}.rgb"))
                    cv2.ipp.setUseIPP(False)
        print("wrote the photo cases to", d, f"(source {w}x{h})")


def sweep(path, n):
    """n random (source size, output size) pairs per mode in the cases format, IPP off."""
    cv2.ipp.setUseIPP(False)
    r = np.random.default_rng(7)
    with open(path, "wb") as f:
        for _ in range(n):
            sw, sh = int(r.integers(1, 90)), int(r.integers(1, 90))
            src = r.integers(0, 256, (sh, sw, 3), dtype=np.uint8)
            record(f, 255, src)
            for m in MODES:
                dw, dh = int(r.integers(1, 120)), int(r.integers(1, 120))
                if r.random() < 0.2:  # integer ratios (INTER_AREA's fast path, exact 2x)
                    k = int(r.integers(1, 5))
                    dw, dh = max(1, sw // k), max(1, sh // int(r.integers(1, 5)))
                record(f, m, cv2.resize(src, (dw, dh), interpolation=m))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    if "--sweep" in sys.argv:
        i = sys.argv.index("--sweep")
        sweep(sys.argv[i + 1], int(sys.argv[i + 2]))
        sys.exit(0)
    main()
