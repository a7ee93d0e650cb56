"""Expected values for PositionInterpolationTests (run by hand; needs numpy + scipy from PyPI).

Follows the steps of recognize-anything's Swin `interpolate_relative_pos_embed` (BEiT lineage):
source offsets on a geometric grid found by bisection, target offsets the integers -t..t, and a
cubic interpolating spline per head. The reference calls scipy `interp2d(kind='cubic')`, which
scipy >= 1.14 no longer has; `RectBivariateSpline(kx=ky=3, s=0)` fits the same FITPACK regrid
spline on gridded data, and its evaluation clamps to the grid like interp2d's did.
"""
import math
import numpy as np
from scipy.interpolate import RectBivariateSpline


def table(side, heads):
    # the same deterministic input the Swift test builds
    return np.array([[math.sin(0.37 * r + 1.3 * h) + 0.1 * r for h in range(heads)]
                     for r in range(side * side)], dtype=np.float32)


def resize(tab, dst_side):
    rows, heads = tab.shape
    src = int(rows ** 0.5)
    lo, hi = 1.01, 1.5
    while hi - lo > 1e-6:
        q = (lo + hi) / 2.0
        if (1.0 - q ** (src // 2)) / (1.0 - q) > dst_side // 2:
            hi = q
        else:
            lo = q
    dis, cur = [], 1
    for i in range(src // 2):
        dis.append(cur)
        cur += q ** (i + 1)
    nodes = [-d for d in reversed(dis)] + [0] + dis
    t = dst_side // 2.0
    targets = np.arange(-t, t + 0.1, 1.0)
    out = []
    for h in range(heads):
        z = tab[:, h].reshape(src, src).astype(np.float64)
        # interp2d(x, y, z) has z[y, x]; RectBivariateSpline(x, y, z) has z[x, y]: pass rows first.
        f = RectBivariateSpline(nodes, nodes, z, kx=3, ky=3, s=0)
        out.append(f(targets, targets).astype(np.float32).reshape(-1))
    return np.stack(out, axis=1)


for (ws, wd, heads) in [(3, 4, 2), (7, 12, 1)]:
    src, dst = 2 * ws - 1, 2 * wd - 1
    r = resize(table(src, heads), dst)
    idx = [0, 1, dst + 2, (dst * dst) // 2, dst * dst - 1]
    print(f"window {ws}->{wd} heads {heads}:", [[float(r[i, h]) for h in range(heads)] for i in idx])
