import Foundation

/// Resampling filters by PIL's names.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case nearest, box, bilinear, hamming, bicubic, lanczos

    /// The filter's support radius in input pixels at scale 1 (Pillow `Resample.c`).
    var support: Double {
        switch self {
        case .nearest, .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The filter kernel (Pillow `Resample.c`: box, triangle, Hamming-windowed sinc,
    /// Keys cubic with a = -0.5, Lanczos-3).
    @inline(__always)
    func weight(_ x0: Double) -> Double {
        switch self {
        case .nearest, .box:
            return (x0 > -0.5 && x0 <= 0.5) ? 1 : 0
        case .bilinear:
            let x = abs(x0)
            return x < 1 ? 1 - x : 0
        case .hamming:
            let x = abs(x0)
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            let px = x * Double.pi
            // Pillow writes the window's constants as float literals (0.54f, 0.46f).
            return sin(px) / px * (Double(Float(0.54)) + Double(Float(0.46)) * cos(px))
        case .bicubic:
            let a = -0.5
            let x = abs(x0)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            if -3 <= x0 && x0 < 3 { return sinc(x0) * sinc(x0 / 3) }
            return 0
        }
    }

    @inline(__always)
    private func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let px = x * Double.pi
        return sin(px) / px
    }
}

/// Fixed-point precision of Pillow's 8-bit resampling: `PRECISION_BITS = 32 - 8 - 2`.
private let precisionBits = 22

/// Per-output-pixel filter taps for one axis, as Pillow's `precompute_coeffs` +
/// `normalize_coeffs_8bpc` compute them.
struct ResampleCoefficients {
    var ksize: Int
    var bounds: [Int]      // (xmin, count) per output pixel
    var coeffs: [Int32]    // outSize × ksize, fixed point (1 << 22 = 1.0)

    init(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResampleFilter) {
        let scale = Double(in1 - in0) / Double(outSize)
        let filterscale = max(scale, 1.0)
        let support = filter.support * filterscale
        let ksize = Int(ceil(support)) * 2 + 1
        var bounds = [Int](repeating: 0, count: outSize * 2)
        var coeffs = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterscale
        for xx in 0..<outSize {
            let center = Double(in0) + (Double(xx) + 0.5) * scale
            var xmin = Int(center - support + 0.5)   // C (int) cast: truncation toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var ww = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<max(xmax, 0) {
                if ww != 0 { k[x] /= ww }
                let v = k[x] * Double(1 << precisionBits)
                coeffs[xx * ksize + x] = Int32(k[x] < 0 ? (-0.5 + v).rounded(.towardZero) : (0.5 + v).rounded(.towardZero))
            }
            bounds[xx * 2] = xmin
            bounds[xx * 2 + 1] = max(xmax, 0)
        }
        self.ksize = ksize
        self.bounds = bounds
        self.coeffs = coeffs
    }
}

@inline(__always)
private func clip8(_ v: Int32) -> UInt8 {
    let s = v >> Int32(precisionBits)
    return s < 0 ? 0 : (s > 255 ? 255 : UInt8(truncatingIfNeeded: s))
}

/// Resizes exactly as Pillow's `Image.resize(size, resample)` does for 8-bit images
/// (`src/libImaging/Resample.c`, `ImagingResample`): a separable convolution whose support is
/// scaled by the downsampling factor (antialiasing), 22-bit fixed-point coefficients, the
/// horizontal pass first over only the rows the vertical pass needs, then the vertical pass.
/// `.nearest` follows Pillow's affine nearest-neighbour transform instead.
///
/// - Parameters:
///   - image: `[H, W, C]` uint8, any channel count (RGB in practice).
///   - width, height: output size in pixels (≥ 1).
///   - box: the source region `(x0, y0, x1, y1)` in input pixels (PIL's `box`), default the whole image.
/// - Returns: `[height, width, C]` uint8.
/// - Throws: `ImageError.invalidArgument` for a non-8-bit/HWC image or sizes < 1.
public func resizePIL(_ image: Image, width: Int, height: Int, filter: ResampleFilter,
                      box: (Float, Float, Float, Float)? = nil) throws -> Image {
    let src = try image.requireBytesHWC("ResizeImage (pil)")
    guard width >= 1, height >= 1 else {
        throw ImageError.invalidArgument("ResizeImage (pil): output size must be at least 1x1, got \(width)x\(height)")
    }
    try checkOutputPixels(width: width, height: height, of: image, op: "ResizeImage (pil)")
    guard image.width >= 1, image.height >= 1 else {
        throw ImageError.invalidArgument("ResizeImage (pil): the input image is empty (\(image.width)x\(image.height))")
    }
    let b = box ?? (0, 0, Float(image.width), Float(image.height))
    guard b.0 >= 0, b.1 >= 0, b.2 <= Float(image.width), b.3 <= Float(image.height), b.2 > b.0, b.3 > b.1 else {
        throw ImageError.invalidArgument(
            "ResizeImage (pil): box \(b) must lie within (0, 0, \(image.width), \(image.height)) with x1 > x0 and y1 > y0")
    }
    if box == nil && width == image.width && height == image.height { return image }
    if filter == .nearest {
        return resizeNearestPIL(src, image: image, width: width, height: height, box: b)
    }
    let c = image.channels
    let inW = image.width
    let needH = width != inW || b.0 != 0 || b.2 != Float(width)
    let needV = height != image.height || b.1 != 0 || b.3 != Float(height)
    let vert = ResampleCoefficients(inSize: image.height, in0: b.1, in1: b.3, outSize: height, filter: filter)
    // Pillow 13 (python-pillow/Pillow#9549): when the height shrinks, by more than twice as many
    // pixels as the width, the vertical pass runs first. The 8-bit rounding between the passes
    // makes the order visible in the output, so it is reproduced (rule measured against Pillow
    // 13.0 on 340 size pairs, and the fixtures were made with it).
    let verticalFirst = needH && needV && image.height > height && (image.height - height) > 2 * (inW - width)
    let horiz = ResampleCoefficients(inSize: inW, in0: b.0, in1: b.2, outSize: width, filter: filter)
    func runHorizontal(_ input: [UInt8], inWidth: Int, rows: Int, rowOffset: Int) -> [UInt8] {
        var tmp = [UInt8](repeating: 0, count: rows * width * c)
        input.withUnsafeBufferPointer { s in
            tmp.withUnsafeMutableBufferPointer { d in
                horiz.coeffs.withUnsafeBufferPointer { kk in
                    horiz.bounds.withUnsafeBufferPointer { bb in
                        horizontalPass(s, d, inW: inWidth, outW: width, rows: rows, rowOffset: rowOffset, c: c,
                                       ksize: horiz.ksize, bounds: bb, kk: kk)
                    }
                }
            }
        }
        return tmp
    }
    func runVertical(_ input: [UInt8], w: Int, bounds: [Int]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * w * c)
        input.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                vert.coeffs.withUnsafeBufferPointer { kk in
                    bounds.withUnsafeBufferPointer { bb in
                        verticalPass(s, d, w: w, outH: height, c: c, ksize: vert.ksize, bounds: bb, kk: kk)
                    }
                }
            }
        }
        return out
    }
    var current = src
    if verticalFirst {
        current = runVertical(current, w: inW, bounds: vert.bounds)
        current = runHorizontal(current, inWidth: inW, rows: height, rowOffset: 0)
    } else {
        var curW = inW
        var vBounds = vert.bounds
        if needH {
            // Only the rows the vertical pass reads are resampled horizontally.
            let yFirst = vert.bounds[0]
            let yLast = vert.bounds[height * 2 - 2] + vert.bounds[height * 2 - 1]
            for i in 0..<height { vBounds[i * 2] -= yFirst }
            current = runHorizontal(current, inWidth: inW, rows: yLast - yFirst, rowOffset: yFirst)
            curW = width
        }
        if needV {
            current = runVertical(current, w: curW, bounds: vBounds)
        }
    }
    return Image(width: width, height: height, channels: c, bytes: current)
}

private func horizontalPass(_ s: UnsafeBufferPointer<UInt8>, _ d: UnsafeMutableBufferPointer<UInt8>,
                            inW: Int, outW: Int, rows: Int, rowOffset: Int, c: Int, ksize: Int,
                            bounds: UnsafeBufferPointer<Int>, kk: UnsafeBufferPointer<Int32>) {
    let half = Int32(1 << (precisionBits - 1))
    for yy in 0..<rows {
        let srow = (yy + rowOffset) * inW * c
        let drow = yy * outW * c
        if c == 3 {
            for xx in 0..<outW {
                let xmin = bounds[xx * 2], n = bounds[xx * 2 + 1]
                let kb = xx * ksize
                var s0 = half, s1 = half, s2 = half
                var p = srow + xmin * 3
                for x in 0..<n {
                    let k = kk[kb + x]
                    s0 &+= Int32(s[p]) &* k
                    s1 &+= Int32(s[p + 1]) &* k
                    s2 &+= Int32(s[p + 2]) &* k
                    p += 3
                }
                let o = drow + xx * 3
                d[o] = clip8(s0); d[o + 1] = clip8(s1); d[o + 2] = clip8(s2)
            }
        } else {
            for xx in 0..<outW {
                let xmin = bounds[xx * 2], n = bounds[xx * 2 + 1]
                let kb = xx * ksize
                for ch in 0..<c {
                    var acc = half
                    for x in 0..<n { acc &+= Int32(s[srow + (xmin + x) * c + ch]) &* kk[kb + x] }
                    d[drow + xx * c + ch] = clip8(acc)
                }
            }
        }
    }
}

private func verticalPass(_ s: UnsafeBufferPointer<UInt8>, _ d: UnsafeMutableBufferPointer<UInt8>,
                          w: Int, outH: Int, c: Int, ksize: Int,
                          bounds: UnsafeBufferPointer<Int>, kk: UnsafeBufferPointer<Int32>) {
    let half = Int32(1 << (precisionBits - 1))
    let rowLen = w * c
    var acc = [Int32](repeating: 0, count: rowLen)
    acc.withUnsafeMutableBufferPointer { a in
        for yy in 0..<outH {
            let ymin = bounds[yy * 2], n = bounds[yy * 2 + 1]
            let kb = yy * ksize
            for i in 0..<rowLen { a[i] = half }
            // Row by row accumulation: same sums as Pillow's per-pixel loop (integer adds commute).
            for y in 0..<n {
                let k = kk[kb + y]
                let srow = (ymin + y) * rowLen
                for i in 0..<rowLen { a[i] &+= Int32(s[srow + i]) &* k }
            }
            let drow = yy * rowLen
            for i in 0..<rowLen { d[drow + i] = clip8(a[i]) }
        }
    }
}

/// Pillow's NEAREST resize: an affine transform sampling the source pixel under each output
/// pixel centre (`xin = x0 + (x + 0.5)·sx`, accumulated in double as Pillow's `affine_transform`).
private func resizeNearestPIL(_ src: [UInt8], image: Image, width: Int, height: Int,
                              box: (Float, Float, Float, Float)) -> Image {
    let c = image.channels
    let sx = Double(box.2 - box.0) / Double(width)
    let sy = Double(box.3 - box.1) / Double(height)
    var xs = [Int](repeating: 0, count: width)
    var xo = Double(box.0) + sx * 0.5
    for x in 0..<width {
        xs[x] = min(max(xo < 0 ? -1 : Int(xo), 0), image.width - 1)
        xo += sx
    }
    var out = [UInt8](repeating: 0, count: width * height * c)
    var yo = Double(box.1) + sy * 0.5
    for y in 0..<height {
        let syi = min(max(yo < 0 ? -1 : Int(yo), 0), image.height - 1)
        for x in 0..<width {
            let si = (syi * image.width + xs[x]) * c, di = (y * width + x) * c
            for k in 0..<c { out[di + k] = src[si + k] }
        }
        yo += sy
    }
    return Image(width: width, height: height, channels: c, bytes: out)
}

