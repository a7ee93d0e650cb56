"""Makes the small test images of RAMImageTests with Pillow, and PIL's decoded RGB for each.

Run once by hand (pip install pillow numpy); the outputs are committed. For every image X the
file X.rgb holds what `Image.open(X).convert("RGB")` gives (raw uint8 HxWx3), except where noted.
"""
import io
import numpy as np
from PIL import Image, ImageOps

rng = np.random.default_rng(1205)


def save_rgb(name, im):
    a = np.asarray(im.convert("RGB"), dtype=np.uint8)
    a.tofile(name + ".rgb")
    return a


def smooth(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    chans = [((x * (37 + 11 * k) + y * (23 + 7 * k)) % 256) for k in range(c)]
    noise = rng.integers(0, 20, (h, w, c))
    return np.clip(np.stack(chans, -1) + noise, 0, 255).astype(np.uint8)


# CMYK JPEG (Pillow writes an Adobe marker and inverted values, as Photoshop does)
cmyk = Image.fromarray(smooth(12, 16, 4), "CMYK")
cmyk.save("cmyk.jpg", quality=95)
save_rgb("cmyk.jpg", Image.open("cmyk.jpg"))

# palette PNG with transparency (tRNS): alpha is dropped by convert("RGB")
pal = Image.fromarray(rng.integers(0, 8, (10, 14), dtype=np.uint8), "P")
pal.putpalette([v for i in range(8) for v in (i * 30, 255 - i * 20, (i * 77) % 256)])
pal.info["transparency"] = bytes([0, 128, 255, 64, 255, 255, 0, 200])
pal.save("palette_trns.png", transparency=bytes([0, 128, 255, 64, 255, 255, 0, 200]))
save_rgb("palette_trns.png", Image.open("palette_trns.png"))

# gray + alpha PNG
la = Image.fromarray(smooth(9, 11, 2), "LA")
la.save("gray_alpha.png")
save_rgb("gray_alpha.png", Image.open("gray_alpha.png"))

# 16-bit grayscale PNG: PIL opens it as I;16 and convert("RGB") clips to white; RAMImage scales
# by the high byte instead, so gray16.png.rgb holds (v >> 8) replicated (not PIL's output).
g16 = (np.arange(8 * 10, dtype=np.uint16).reshape(8, 10) * 811 + 37).astype(np.uint16)
Image.fromarray(g16).save("gray16.png")
hi = (g16 >> 8).astype(np.uint8)
np.repeat(hi[:, :, None], 3, axis=2).tofile("gray16.png.rgb")
pil16 = np.asarray(Image.open("gray16.png").convert("RGB"))
print("gray16: PIL's convert('RGB') gives", np.unique(pil16)[:5], "... (clipped)")

# 16-bit RGB PNG: PIL reads the high byte (rawmode RGB;16B)
rgb16 = (smooth(6, 7, 3).astype(np.uint16) * 257 + rng.integers(0, 200, (6, 7, 3))).astype(">u2")
import zlib, struct
def png_chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
raw = b"".join(b"\x00" + rgb16[y].tobytes() for y in range(6))
png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 6, 16, 2, 0, 0, 0)) \
    + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
open("rgb16.png", "wb").write(png)
save_rgb("rgb16.png", Image.open("rgb16.png"))

# 2-bit grayscale (interlaced PNGs are made in the tests with libpng: Pillow cannot write them)
Image.fromarray((rng.integers(0, 4, (5, 9)) * 85).astype(np.uint8), "L").convert("L").save("gray8.png")
two = Image.open("gray8.png")
two.save("gray2bit.png", bits=2)
save_rgb("gray2bit.png", Image.open("gray2bit.png"))
import os; os.remove("gray8.png")

# EXIF orientation 6 (stored sideways: the camera was turned 90 degrees clockwise)
base = Image.fromarray(smooth(6, 10, 3), "RGB")
exif = Image.Exif()
exif[0x0112] = 6
base.save("orient6.jpg", quality=95, exif=exif.tobytes())
im = Image.open("orient6.jpg")
save_rgb("orient6.jpg", im)  # as stored (exif_transpose: false)
save_rgb("orient6.jpg.transposed", ImageOps.exif_transpose(im))  # as shown

# progressive JPEG
Image.fromarray(smooth(20, 24, 3), "RGB").save("progressive.jpg", quality=90, progressive=True)
save_rgb("progressive.jpg", Image.open("progressive.jpg"))

# PIL resize cases: every filter, up- and down-scaling, both pass orders (Pillow 13 runs the
# vertical pass first when the height shrinks by more than twice as many pixels as the width).
# resize_cases.bin = the 19x13 RGB source, then each case's output in the order below.
src = smooth(13, 19, 3)
src_im = Image.fromarray(src, "RGB")
filters = ["nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"]
sizes = [(8, 8), (30, 20), (19, 5), (7, 25), (17, 2)]
with open("resize_cases.bin", "wb") as f:
    f.write(src.tobytes())
    for name in filters:
        for (w, h) in sizes:
            out = np.asarray(src_im.resize((w, h), getattr(Image.Resampling, name.upper())), dtype=np.uint8)
            assert out.shape == (h, w, 3)
            f.write(out.tobytes())
