import Foundation

// OpenCV's `cv2.resize` for 8-bit images, re-implemented from the arithmetic of OpenCV's
// `modules/imgproc/src/resize.cpp` (`hal::resize`, `resizeGeneric_`, `resizeAreaFast_`,
// `resizeArea_`, `computeResizeAreaTab`, `interpolateCubic`, `interpolateLanczos4`).
// Verified pixel for pixel against opencv-python-headless 5.0 with IPP switched off
// (Tests/RAMImageTests/scripts/make_cv2_resize_cases.py).

/// OpenCV interpolation modes by PaddleClas's names.
public enum CV2Interpolation: String, Sendable, CaseIterable {
    case nearest, bilinear, bicubic, area, lanczos
}

/// `INTER_RESIZE_COEF_BITS`: 8-bit resizing uses 11-bit fixed-point weights (2048 = 1.0).
private let coefBits = 11
private let coefScale: Float = 2048

/// `saturate_cast<short>(float)`: round half to even (`cvRound`), then clamp.
@inline(__always)
private func satShort(_ v: Float) -> Int32 { Int32(max(-32768, min(32767, v.rounded(.toNearestOrEven)))) }

/// `saturate_cast<uchar>(float)`: round half to even, then clamp to 0...255.
@inline(__always)
private func satByte(_ v: Float) -> UInt8 {
    let r = v.rounded(.toNearestOrEven)
    return r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
}

/// `saturate_cast<uchar>(int)`.
@inline(__always)
private func satByte(_ v: Int32) -> UInt8 { v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(truncatingIfNeeded: v)) }

/// Resizes as OpenCV's `cv2.resize(src, (width, height), interpolation=...)` does for 8-bit
/// images (`modules/imgproc/src/resize.cpp`), without antialiasing except what `INTER_AREA` is:
/// - `.nearest` (`INTER_NEAREST`): `sx = floor(x·W/w)`.
/// - `.bilinear` (`INTER_LINEAR`): source coordinate `(x + 0.5)·(W/w) − 0.5` in float, clamped
///   at the borders; 11-bit fixed-point weights (`INTER_RESIZE_COEF_BITS`); the horizontal pass
///   keeps `value·2048` sums; the vertical pass combines two rows as OpenCV's SIMD path does,
///   `((S0>>4)·b0 >> 16) + ((S1>>4)·b1 >> 16) + 2 >> 2`. An exact 2× downscale on both axes is
///   `INTER_AREA`'s 2×2 average (OpenCV switches there).
/// - `.bicubic` (`INTER_CUBIC`): 4 taps of Keys' cubic with A = −0.75 computed in float, rounded
///   to 11-bit weights; borders replicated; the horizontal pass sums `value·weight` in integers,
///   the vertical pass combines 4 rows: OpenCV's SIMD path (whole blocks of 8 values of a row of
///   `width·channels`, 128-bit) in float, `S0·b0' + (S1·b1' + (S2·b2' + S3·b3'))` with
///   `b' = b/2^22`, unfused, rounded half to even; the rest of the row in fixed point
///   `(Σ S_k·b_k + 2^21) >> 22`.
/// - `.lanczos` (`INTER_LANCZOS4`): 8 taps of the Lanczos-4 window (double sin/cos, float
///   normalisation), 11-bit weights, fixed point on both passes (`+ 2^21 >> 22`).
/// - `.area` (`INTER_AREA`): when neither axis grows, the average of the covered source area:
///   integer ratios on both axes take the fast path (the exact sum times `1/area` in float,
///   rounded half to even; 2×2 is `(sum + 2) >> 2`), other ratios the fractional path (float
///   weights from `computeResizeAreaTab`, rows accumulated in float). When an axis grows, OpenCV
///   runs the bilinear code with "area" coordinates: `sx = floor(x·W/w)`,
///   `fx = (x + 1) − (sx + 1)·(w/W)`, taken as 0 when ≤ 0 and its fractional part otherwise.
///
/// Intel IPP: the pip wheel (IPP on by default) computes `INTER_CUBIC` with IPP instead, which
/// differs from OpenCV's own code (reproduced here) by at most 1 level (0.001–2.5% of the values
/// on `demo4.jpg`; measured, see docs/images.md). The other modes do not use IPP.
/// - Parameter image: `[H, W, C]` uint8 (any channel count). - Returns: `[height, width, C]` uint8.
public func resizeCV2(_ image: Image, width: Int, height: Int, interpolation: CV2Interpolation) throws -> Image {
    let src = try image.requireBytesHWC("ResizeImage (cv2)")
    guard width >= 1, height >= 1 else {
        throw ImageError.invalidArgument("ResizeImage (cv2): output size must be at least 1x1, got \(width)x\(height)")
    }
    try checkOutputPixels(width: width, height: height, of: image, op: "ResizeImage (cv2)")
    guard image.width >= 1, image.height >= 1 else {
        throw ImageError.invalidArgument("ResizeImage (cv2): the input image is empty (\(image.width)x\(image.height))")
    }
    if width == image.width && height == image.height { return image }
    let g = CV2Geometry(sw: image.width, sh: image.height, c: image.channels, dw: width, dh: height)
    let out: [UInt8]
    switch interpolation {
    case .nearest:
        out = nearestCV2(src, g)
    case .bilinear:
        if g.isAreaFast && g.iscaleX == 2 && g.iscaleY == 2 {
            out = areaFastCV2(src, g)
        } else {
            out = linearCV2(src, g, areaMode: false)
        }
    case .area:
        if g.scaleX >= 1 && g.scaleY >= 1 {
            out = g.isAreaFast ? areaFastCV2(src, g) : areaCV2(src, g)
        } else {
            out = linearCV2(src, g, areaMode: true)
        }
    case .bicubic:
        out = separableCV2(src, g, taps: 4)
    case .lanczos:
        out = separableCV2(src, g, taps: 8)
    }
    return Image(width: width, height: height, channels: image.channels, bytes: out)
}

/// Sizes and scale factors as `hal::resize` derives them: `inv_scale = dst / src` (double),
/// `scale = 1 / inv_scale`, integer scales rounded (`saturate_cast<int>`), and the "area fast"
/// test `|scale − iscale| < DBL_EPSILON` on both axes.
private struct CV2Geometry {
    let sw: Int, sh: Int, c: Int, dw: Int, dh: Int
    let invScaleX: Double, invScaleY: Double
    let scaleX: Double, scaleY: Double
    let iscaleX: Int, iscaleY: Int
    let isAreaFast: Bool

    init(sw: Int, sh: Int, c: Int, dw: Int, dh: Int) {
        self.sw = sw; self.sh = sh; self.c = c; self.dw = dw; self.dh = dh
        invScaleX = Double(dw) / Double(sw)
        invScaleY = Double(dh) / Double(sh)
        scaleX = 1.0 / invScaleX
        scaleY = 1.0 / invScaleY
        iscaleX = Int(scaleX.rounded(.toNearestOrEven))
        iscaleY = Int(scaleY.rounded(.toNearestOrEven))
        isAreaFast = abs(scaleX - Double(iscaleX)) < Double.ulpOfOne && abs(scaleY - Double(iscaleY)) < Double.ulpOfOne
    }
}

// MARK: - nearest

private func nearestCV2(_ src: [UInt8], _ g: CV2Geometry) -> [UInt8] {
    let c = g.c
    // resizeNN: sx = floor(x * (1 / inv_scale_x)), clamped to the last column.
    let fx = 1.0 / g.invScaleX, fy = 1.0 / g.invScaleY
    var out = [UInt8](repeating: 0, count: g.dw * g.dh * c)
    let xs = (0..<g.dw).map { min(Int(floor(Double($0) * fx)), g.sw - 1) }
    for y in 0..<g.dh {
        let syi = min(Int(floor(Double(y) * fy)), g.sh - 1)
        for x in 0..<g.dw {
            let si = (syi * g.sw + xs[x]) * c, di = (y * g.dw + x) * c
            for k in 0..<c { out[di + k] = src[si + k] }
        }
    }
    return out
}

// MARK: - linear (and INTER_AREA when an axis grows)

/// Source index and fraction of one output coordinate on the linear path.
/// `areaMode`: `INTER_AREA` upscaling's coordinates (`sx = floor(d·scale)`,
/// `f = (d + 1) − (sx + 1)·inv_scale`, 0 when ≤ 0, else its fractional part).
@inline(__always)
private func linearCoordinate(_ d: Int, scale: Double, invScale: Double, areaMode: Bool) -> (Int, Float) {
    if areaMode {
        let s = Int(floor(Double(d) * scale))
        var f = Float(Double(d + 1) - Double(s + 1) * invScale)
        f = f <= 0 ? 0 : f - f.rounded(.down)
        return (s, f)
    }
    var f = Float((Double(d) + 0.5) * scale - 0.5)
    let s = Int(f.rounded(.down))
    f -= Float(s)
    return (s, f)
}

private func linearCV2(_ src: [UInt8], _ g: CV2Geometry, areaMode: Bool) -> [UInt8] {
    let c = g.c, sw = g.sw, sh = g.sh, width = g.dw, height = g.dh
    // horizontal taps: clamped at both borders (weight 2048 on the edge pixel)
    var xofs = [Int](repeating: 0, count: width)
    var xofs1 = [Int](repeating: 0, count: width)
    var alpha = [Int32](repeating: 0, count: width * 2)
    for dx in 0..<width {
        var (sx, fx) = linearCoordinate(dx, scale: g.scaleX, invScale: g.invScaleX, areaMode: areaMode)
        if sx < 0 { fx = 0; sx = 0 }
        if sx >= sw - 1 { fx = 0; sx = sw - 1 }
        xofs[dx] = sx
        xofs1[dx] = min(sx + 1, sw - 1)
        alpha[dx * 2] = satShort((1 - fx) * coefScale)
        alpha[dx * 2 + 1] = satShort(fx * coefScale)
    }
    // vertical taps: the fraction is not clamped; the rows are, when fetched
    var yofs = [Int](repeating: 0, count: height * 2)
    var beta = [Int32](repeating: 0, count: height * 2)
    for dy in 0..<height {
        let (sy, fy) = linearCoordinate(dy, scale: g.scaleY, invScale: g.invScaleY, areaMode: areaMode)
        yofs[dy * 2] = min(max(sy, 0), sh - 1)
        yofs[dy * 2 + 1] = min(max(sy + 1, 0), sh - 1)
        beta[dy * 2] = satShort((1 - fy) * coefScale)
        beta[dy * 2 + 1] = satShort(fy * coefScale)
    }
    let rowLen = width * c
    var rowCache = [Int: [Int32]]()
    func hrow(_ sy: Int) -> [Int32] {
        if let r = rowCache[sy] { return r }
        var r = [Int32](repeating: 0, count: rowLen)
        let base = sy * sw * c
        for dx in 0..<width {
            let a0 = alpha[dx * 2], a1 = alpha[dx * 2 + 1]
            let p0 = base + xofs[dx] * c, p1 = base + xofs1[dx] * c
            for k in 0..<c {
                r[dx * c + k] = Int32(src[p0 + k]) * a0 + Int32(src[p1 + k]) * a1
            }
        }
        if rowCache.count > 4 { rowCache.removeAll(keepingCapacity: true) }
        rowCache[sy] = r
        return r
    }
    var out = [UInt8](repeating: 0, count: height * rowLen)
    for dy in 0..<height {
        let r0 = hrow(yofs[dy * 2]), r1 = hrow(yofs[dy * 2 + 1])
        let b0 = beta[dy * 2], b1 = beta[dy * 2 + 1]
        let o = dy * rowLen
        for i in 0..<rowLen {
            // VResizeLinear<uchar, int, short>: ((b0·(S0>>4))>>16) + ((b1·(S1>>4))>>16) + 2 >> 2
            let v = (((r0[i] >> 4) &* b0) >> 16) + (((r1[i] >> 4) &* b1) >> 16)
            out[o + i] = satByte((v + 2) >> 2)
        }
    }
    return out
}

// MARK: - cubic and Lanczos-4

/// `interpolateCubic` (A = −0.75), in float as OpenCV computes it.
private func cubicWeights(_ x: Float) -> [Float] {
    let a: Float = -0.75
    let c0 = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
    let c1 = ((a + 2) * x - (a + 3)) * x * x + 1
    let c2 = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1
    let c3 = 1 - c0 - c1 - c2
    return [c0, c1, c2, c3]
}

/// `interpolateLanczos4`: sin/cos in double, each weight rounded to float, normalised in float
/// (`sum = 1/sum; w *= sum`). A tap at distance < 1e-6 gets 1e30 before normalising.
private func lanczos4Weights(_ x: Float) -> [Float] {
    let s45 = 0.70710678118654752440084436210485
    let cs: [(Double, Double)] = [(1, 0), (-s45, -s45), (0, 1), (s45, -s45), (-1, 0), (s45, s45), (0, -1), (-s45, s45)]
    var w = [Float](repeating: 0, count: 8)
    var sum: Float = 0
    let y0 = Double(-(x + 3)) * Double.pi * 0.25
    let s0 = sin(y0), c0 = cos(y0)
    for i in 0..<8 {
        let d: Float = x + 3 - Float(i)
        if abs(d) >= 1e-6 {
            let y = Double(-d) * Double.pi * 0.25
            w[i] = Float((cs[i].0 * s0 + cs[i].1 * c0) / (y * y))
        } else {
            w[i] = 1e30
        }
        sum += w[i]
    }
    sum = 1 / sum
    for i in 0..<8 { w[i] *= sum }
    return w
}

/// The taps (`ksize` = 4 or 8) of one axis: the first source index `floor(f) − ksize/2 + 1` and
/// the 11-bit weights, for every output coordinate.
private func separableTaps(outSize: Int, scale: Double, taps: Int) -> (first: [Int], weights: [Int32]) {
    var first = [Int](repeating: 0, count: outSize)
    var weights = [Int32](repeating: 0, count: outSize * taps)
    for d in 0..<outSize {
        var f = Float((Double(d) + 0.5) * scale - 0.5)
        let s = Int(f.rounded(.down))
        f -= Float(s)
        let w = taps == 4 ? cubicWeights(f) : lanczos4Weights(f)
        first[d] = s - taps / 2 + 1
        for k in 0..<taps { weights[d * taps + k] = satShort(w[k] * coefScale) }
    }
    return (first, weights)
}

/// `resizeGeneric_` with `HResizeCubic`/`HResizeLanczos4` + `VResizeCubic`/`VResizeLanczos4`
/// for uchar (int sums, short weights; out-of-image taps replicate the border pixel).
private func separableCV2(_ src: [UInt8], _ g: CV2Geometry, taps: Int) -> [UInt8] {
    let c = g.c, sw = g.sw, sh = g.sh, width = g.dw, height = g.dh
    let hx = separableTaps(outSize: width, scale: g.scaleX, taps: taps)
    let vy = separableTaps(outSize: height, scale: g.scaleY, taps: taps)
    let rowLen = width * c
    // source column of every (dx, tap), clamped
    var cols = [Int](repeating: 0, count: width * taps)
    for dx in 0..<width {
        for k in 0..<taps { cols[dx * taps + k] = min(max(hx.first[dx] + k, 0), sw - 1) * c }
    }
    var rowCache = [Int: [Int32]]()
    func hrow(_ sy: Int) -> [Int32] {
        if let r = rowCache[sy] { return r }
        var r = [Int32](repeating: 0, count: rowLen)
        let base = sy * sw * c
        src.withUnsafeBufferPointer { s in
            for dx in 0..<width {
                let kb = dx * taps
                for ch in 0..<c {
                    var acc: Int32 = 0
                    for k in 0..<taps { acc &+= Int32(s[base + cols[kb + k] + ch]) &* hx.weights[kb + k] }
                    r[dx * c + ch] = acc
                }
            }
        }
        if rowCache.count > 2 * taps { rowCache.removeAll(keepingCapacity: true) }
        rowCache[sy] = r
        return r
    }
    var out = [UInt8](repeating: 0, count: height * rowLen)
    // VResizeCubicVec_32s8u handles whole blocks of 8 values (128-bit SIMD: 8 int16 lanes; the
    // wheel runs this code at its SSE baseline, measured: 16 lanes or fused multiply-adds
    // mismatch) in float; the scalar tail and every Lanczos-4 value use
    // FixedPtCast<int, uchar, 22>, i.e. `(Σ + 2^21) >> 22`.
    let simdLanes = 8
    let vecEnd = taps == 4 && rowLen >= simdLanes ? (rowLen / simdLanes) * simdLanes : 0
    let fscale: Float = 1.0 / Float(1 << (2 * coefBits))
    let half = Int32(1 << (2 * coefBits - 1))
    for dy in 0..<height {
        var rows = [[Int32]]()
        rows.reserveCapacity(taps)
        for k in 0..<taps { rows.append(hrow(min(max(vy.first[dy] + k, 0), sh - 1))) }
        let b = Array(vy.weights[(dy * taps)..<(dy * taps + taps)])
        let o = dy * rowLen
        if vecEnd > 0 {
            let f0 = Float(b[0]) * fscale, f1 = Float(b[1]) * fscale
            let f2 = Float(b[2]) * fscale, f3 = Float(b[3]) * fscale
            for i in 0..<vecEnd {
                // v_muladd(S0, b0, v_muladd(S1, b1, v_muladd(S2, b2, S3·b3))), then v_round:
                // separate multiplies and adds (SSE has no FMA), round half to even
                let t3 = Float(rows[3][i]) * f3
                let t2 = Float(rows[2][i]) * f2 + t3
                let t1 = Float(rows[1][i]) * f1 + t2
                let t0 = Float(rows[0][i]) * f0 + t1
                let r = t0.rounded(.toNearestOrEven)
                out[o + i] = r <= 0 ? 0 : (r >= 255 ? 255 : UInt8(r))
            }
        }
        for i in vecEnd..<rowLen {
            var acc: Int32 = 0
            for k in 0..<taps { acc &+= rows[k][i] &* b[k] }
            out[o + i] = satByte((acc &+ half) >> Int32(2 * coefBits))
        }
    }
    return out
}

// MARK: - area

/// `resizeAreaFast_` for uchar: integer scales on both axes. 2×2 (1, 3 or 4 channels) is
/// `(a + b + c + d + 2) >> 2`; otherwise the integer sum times `1/area` in float, rounded half
/// to even.
private func areaFastCV2(_ src: [UInt8], _ g: CV2Geometry) -> [UInt8] {
    let c = g.c, sw = g.sw, width = g.dw, height = g.dh
    let sx = g.iscaleX, sy = g.iscaleY
    let area = sx * sy
    let scale: Float = 1 / Float(area)
    let twoByTwo = sx == 2 && sy == 2 && (c == 1 || c == 3 || c == 4)
    var out = [UInt8](repeating: 0, count: width * height * c)
    for dy in 0..<height {
        for dx in 0..<width {
            for k in 0..<c {
                var sum: Int32 = 0
                for yy in 0..<sy {
                    let row = (dy * sy + yy) * sw
                    for xx in 0..<sx { sum += Int32(src[(row + dx * sx + xx) * c + k]) }
                }
                out[(dy * width + dx) * c + k] = twoByTwo ? UInt8((sum + 2) >> 2) : satByte(Float(sum) * scale)
            }
        }
    }
    return out
}

/// One entry of `computeResizeAreaTab`: output index, source index, weight.
private struct AreaTap { let d: Int; let s: Int; let w: Float }

/// `computeResizeAreaTab`: the source pixels each output pixel covers, with the fractions of a
/// cell (`min(scale, size − d·scale)` wide) they cover, computed in double, stored as float.
private func areaTaps(inSize: Int, outSize: Int, scale: Double) -> [AreaTap] {
    var t = [AreaTap]()
    for d in 0..<outSize {
        let f1 = Double(d) * scale
        let f2 = f1 + scale
        let cell = min(scale, Double(inSize) - f1)
        var s2 = Int(floor(f2))
        var s1 = Int(ceil(f1))
        s2 = min(s2, inSize - 1)
        s1 = min(s1, s2)
        if Double(s1) - f1 > 1e-3 { t.append(AreaTap(d: d, s: s1 - 1, w: Float((Double(s1) - f1) / cell))) }
        if s1 < s2 { for s in s1..<s2 { t.append(AreaTap(d: d, s: s, w: Float(1.0 / cell))) } }
        if f2 - Double(s2) > 1e-3 { t.append(AreaTap(d: d, s: s2, w: Float(min(min(f2 - Double(s2), 1.0), cell) / cell))) }
    }
    return t
}

/// `resizeArea_<uchar, float>`: every source row is reduced horizontally into a float buffer
/// (`buf += S·α` tap by tap), rows are accumulated into the output row (`sum = β·buf` for an
/// output row's first source row, `sum += β·buf` after), and `saturate_cast<uchar>` rounds.
private func areaCV2(_ src: [UInt8], _ g: CV2Geometry) -> [UInt8] {
    let c = g.c, sw = g.sw, width = g.dw, height = g.dh
    let xt = areaTaps(inSize: sw, outSize: width, scale: g.scaleX)
    let yt = areaTaps(inSize: g.sh, outSize: height, scale: g.scaleY)
    let rowLen = width * c
    var out = [UInt8](repeating: 0, count: height * rowLen)
    var buf = [Float](repeating: 0, count: rowLen)
    var sum = [Float](repeating: 0, count: rowLen)
    var prev = yt.first?.d ?? 0
    func flush(_ dy: Int) {
        for i in 0..<rowLen { out[dy * rowLen + i] = satByte(sum[i]) }
    }
    for (j, ty) in yt.enumerated() {
        for i in 0..<rowLen { buf[i] = 0 }
        let base = ty.s * sw * c
        for tx in xt {
            for k in 0..<c {
                let di = tx.d * c + k
                buf[di] = buf[di] + Float(src[base + tx.s * c + k]) * tx.w
            }
        }
        if j > 0 && ty.d != prev {
            flush(prev)
            for i in 0..<rowLen { sum[i] = ty.w * buf[i] }
            prev = ty.d
        } else {
            for i in 0..<rowLen { sum[i] = sum[i] + ty.w * buf[i] }
        }
    }
    flush(prev)
    return out
}
