import Foundation

/// Resizing of position tables when a checkpoint's window / grid differs from the model's.
/// Pure functions over row-major `[Float]`; no tensor dependency.
public enum PositionInterpolation {
    public enum Method {
        /// What the reference does for Swin's `relative_position_bias_table`
        /// (recognize-anything `swin_transformer.interpolate_relative_pos_embed`, from BEiT
        /// `run_class_finetuning.py`): source offsets are placed on a geometric grid whose extent
        /// matches the target's, then each head is resampled with scipy `interp2d(kind='cubic')`,
        /// i.e. the interpolating bicubic spline with not-a-knot ends (FITPACK `regrid`, s = 0),
        /// evaluated at the integer target offsets (clamped to the source grid's extent).
        case referenceGeometricSpline
        /// `torch.nn.functional.interpolate(mode='bicubic', align_corners=False)` on the
        /// `[heads, S, S]` grid (cubic convolution, A = -0.75, borders replicated).
        case torchBicubic
    }

    /// Resizes a Swin `relative_position_bias_table` from `[(2W-1)², heads]` to `[(2W'-1)², heads]`.
    /// - Parameters:
    ///   - table: row-major `[srcSide², heads]`, row = (Δy + W-1)·(2W-1) + (Δx + W-1).
    ///   - heads: number of attention heads (columns).
    ///   - toWindow: the model's window size W'.
    /// - Returns: row-major `[(2W'-1)², heads]`; the input unchanged when the sizes agree.
    /// - Throws: `.shapeMismatch` when `table.count` is not a square number of rows × `heads`.
    public static func relativePositionBiasTable(_ table: [Float], heads: Int, toWindow: Int,
                                                 method: Method = .referenceGeometricSpline) throws -> [Float] {
        guard heads > 0, toWindow > 0, table.count % heads == 0 else {
            throw CheckpointError(.shapeMismatch, file: "", "relative_position_bias_table of \(table.count) values is not [rows, \(heads) heads]")
        }
        let rows = table.count / heads
        let src = Int(Double(rows).squareRoot().rounded())
        guard src * src == rows, src % 2 == 1 else {
            throw CheckpointError(.shapeMismatch, file: "", "relative_position_bias_table has \(rows) rows, expected (2W-1)² for some window W")
        }
        let dst = 2 * toWindow - 1
        if src == dst { return table }
        // per head grid [src, src]
        var out = [Float](repeating: 0, count: dst * dst * heads)
        switch method {
        case .referenceGeometricSpline:
            let (xs, targets) = geometricGrid(srcSide: src, dstSide: dst)
            let w = splineWeights(nodes: xs, at: targets)       // [dst][src]
            separable(table, heads: heads, src: src, dst: dst, wy: w, wx: w, into: &out)
        case .torchBicubic:
            let w = torchBicubicWeights(inSize: src, outSize: dst)
            separable(table, heads: heads, src: src, dst: dst, wy: w, wx: w, into: &out)
        }
        return out
    }

    /// `torch.nn.functional.interpolate(x, size: (outH, outW), mode='bicubic', align_corners=False)`
    /// for `x` row-major `[channels, inH, inW]` → `[channels, outH, outW]` (the reference's
    /// `interpolate_pos_embed` for ViT `pos_embed`, vit.py). Weights per PyTorch's
    /// `upsample_bicubic2d`: source = (dst + 0.5)·in/out − 0.5, cubic convolution with A = −0.75,
    /// indices clamped to the border.
    public static func bicubic(_ x: [Float], channels: Int, inH: Int, inW: Int, outH: Int, outW: Int) throws -> [Float] {
        guard channels >= 0, inH > 0, inW > 0, outH > 0, outW > 0, x.count == channels * inH * inW else {
            throw CheckpointError(.shapeMismatch, file: "", "bicubic: \(x.count) values is not [\(channels), \(inH), \(inW)]")
        }
        let wy = torchBicubicWeights(inSize: inH, outSize: outH)
        let wx = torchBicubicWeights(inSize: inW, outSize: outW)
        var out = [Float](repeating: 0, count: channels * outH * outW)
        for c in 0..<channels {
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var acc = 0.0
                    for (iy, a) in wy[oy] {
                        var row = 0.0
                        for (ix, b) in wx[ox] {
                            let v = Double(x[(c * inH + iy) * inW + ix])
                            row += b * v
                        }
                        acc += a * row
                    }
                    out[(c * outH + oy) * outW + ox] = Float(acc)
                }
            }
        }
        return out
    }

    // MARK: - internals

    /// Applies 1-D weights along y then x for every head; table layout [side*side, heads].
    private static func separable(_ table: [Float], heads: Int, src: Int, dst: Int,
                                  wy: [[(Int, Double)]], wx: [[(Int, Double)]], into out: inout [Float]) {
        for h in 0..<heads {
            for oy in 0..<dst {
                for ox in 0..<dst {
                    var acc = 0.0
                    for (iy, a) in wy[oy] {
                        var row = 0.0
                        for (ix, b) in wx[ox] {
                            let v = Double(table[(iy * src + ix) * heads + h])
                            row += b * v
                        }
                        acc += a * row
                    }
                    out[(oy * dst + ox) * heads + h] = Float(acc)
                }
            }
        }
    }

    /// The reference's grids: source offsets ±(1 + q + … + q^(i-1)) with q found by bisection so
    /// that the outermost offset is about dst//2; targets are the integers −dst//2 … dst//2.
    static func geometricGrid(srcSide: Int, dstSide: Int) -> (nodes: [Double], targets: [Double]) {
        func gp(_ a: Double, _ r: Double, _ n: Int) -> Double { a * (1.0 - pow(r, Double(n))) / (1.0 - r) }
        var left = 1.01, right = 1.5, q = 0.0
        let half = Double(dstSide / 2)
        while right - left > 1e-6 {
            q = (left + right) / 2.0
            if gp(1, q, srcSide / 2) > half { right = q } else { left = q }
        }
        var dis: [Double] = []
        var cur = 1.0
        for i in 0..<(srcSide / 2) { dis.append(cur); cur += pow(q, Double(i + 1)) }
        let negative: [Double] = dis.reversed().map { -$0 }
        let nodes: [Double] = negative + [0.0] + dis
        let t = Double(dstSide / 2)
        var targets: [Double] = []
        var i = 0
        while -t + Double(i) < t + 0.1 { targets.append(-t + Double(i)); i += 1 }
        return (nodes, targets)
    }

    /// Weights w[j][i] such that S(targets[j]) = Σ_i w[j][i]·y[i] for the not-a-knot cubic spline
    /// through (nodes[i], y[i]); targets outside the nodes are clamped (FITPACK `fpbisp` behaviour).
    static func splineWeights(nodes x: [Double], at targets: [Double]) -> [[(Int, Double)]] {
        let n = x.count
        var rows: [[Double]] = Array(repeating: Array(repeating: 0, count: n), count: targets.count)
        for k in 0..<n {
            var y = [Double](repeating: 0, count: n); y[k] = 1
            let f = notAKnotSpline(x, y)
            for (j, t) in targets.enumerated() { rows[j][k] = f(t) }
        }
        return rows.map { r in r.enumerated().filter { $0.element != 0 }.map { ($0.offset, $0.element) } }
    }

    /// The interpolating cubic spline with not-a-knot end conditions (for n = 3 the parabola,
    /// n = 2 the line, n = 1 the constant), evaluated with clamping to [x0, x_{n-1}].
    static func notAKnotSpline(_ x: [Double], _ y: [Double]) -> (Double) -> Double {
        let n = x.count
        if n == 1 { return { _ in y[0] } }
        func clamp(_ t: Double) -> Double { min(max(t, x[0]), x[n - 1]) }
        if n == 2 { return { t in let u = (clamp(t) - x[0]) / (x[1] - x[0]); return y[0] + u * (y[1] - y[0]) } }
        if n == 3 {
            return { t0 in
                let t = clamp(t0)
                var s = 0.0
                for i in 0..<3 {
                    var l = 1.0
                    for j in 0..<3 where j != i { l *= (t - x[j]) / (x[i] - x[j]) }
                    s += l * y[i]
                }
                return s
            }
        }
        let h = (0..<(n - 1)).map { x[$0 + 1] - x[$0] }
        // Solve A·M = r for the second derivatives M (dense, partial pivoting; n is small).
        var a = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        var r = [Double](repeating: 0, count: n)
        a[0][0] = h[1]; a[0][1] = -(h[0] + h[1]); a[0][2] = h[0]
        for i in 1..<(n - 1) {
            a[i][i - 1] = h[i - 1]; a[i][i] = 2 * (h[i - 1] + h[i]); a[i][i + 1] = h[i]
            r[i] = 6 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1])
        }
        a[n - 1][n - 3] = h[n - 2]; a[n - 1][n - 2] = -(h[n - 3] + h[n - 2]); a[n - 1][n - 1] = h[n - 3]
        for col in 0..<n {
            var p = col
            for i in (col + 1)..<n where abs(a[i][col]) > abs(a[p][col]) { p = i }
            a.swapAt(col, p); r.swapAt(col, p)
            let d = a[col][col]
            for i in (col + 1)..<n where a[i][col] != 0 {
                let f = a[i][col] / d
                for j in col..<n { a[i][j] -= f * a[col][j] }
                r[i] -= f * r[col]
            }
        }
        var m = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = r[i]
            for j in (i + 1)..<n { s -= a[i][j] * m[j] }
            m[i] = s / a[i][i]
        }
        return { t0 in
            let t = clamp(t0)
            var i = 0
            while i < n - 2 && t > x[i + 1] { i += 1 }
            let hi = h[i], u = x[i + 1] - t, v = t - x[i]
            return m[i] * u * u * u / (6 * hi) + m[i + 1] * v * v * v / (6 * hi)
                + (y[i] / hi - m[i] * hi / 6) * u + (y[i + 1] / hi - m[i + 1] * hi / 6) * v
        }
    }

    /// PyTorch `upsample_bicubic2d` 1-D weights (align_corners=False), computed in Float as torch does.
    static func torchBicubicWeights(inSize: Int, outSize: Int) -> [[(Int, Double)]] {
        let a: Float = -0.75
        func c1(_ t: Float) -> Float { ((a + 2) * t - (a + 3)) * t * t + 1 }            // |t| <= 1
        func c2(_ t: Float) -> Float { ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }       // 1 < |t| < 2
        let scale = Float(inSize) / Float(outSize)
        return (0..<outSize).map { o in
            let real = scale * (Float(o) + 0.5) - 0.5
            let i0 = Int(real.rounded(.down))
            let t = real - Float(i0)
            let w: [Float] = [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]
            var acc: [Int: Double] = [:]
            for k in 0..<4 {
                let idx = min(max(i0 - 1 + k, 0), inSize - 1)
                acc[idx, default: 0] += Double(w[k])
            }
            return acc.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }
}
