import Glibc

/// Sum of a contiguous row (four 8-lane accumulators, then a horizontal sum).
@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    let rp = UnsafeRawPointer(p)
    while i + 32 <= n {
        a0 += rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        a1 += rp.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        a2 += rp.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
        a3 += rp.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
        i += 32
    }
    while i + 8 <= n { a0 += rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ (p[i] − c)² over a contiguous row.
@inline(__always)
func rowSumSqDev(_ p: UnsafePointer<Float>, _ n: Int, _ c: Float) -> Float {
    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
    var i = 0
    let rp = UnsafeRawPointer(p)
    while i + 32 <= n {
        let d0 = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - c
        let d1 = rp.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self) - c
        let d2 = rp.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self) - c
        let d3 = rp.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self) - c
        a0 += d0 * d0; a1 += d1 * d1; a2 += d2 * d2; a3 += d3 * d3
        i += 32
    }
    while i + 8 <= n {
        let d = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - c
        a0 += d * d
        i += 8
    }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { let d = p[i] - c; s += d * d; i += 1 }
    return s
}

@inline(__always)
func rowMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var i = 0
    while i + 8 <= n {
        m0 = p[i] > m0 ? p[i] : m0; m1 = p[i + 1] > m1 ? p[i + 1] : m1
        m2 = p[i + 2] > m2 ? p[i + 2] : m2; m3 = p[i + 3] > m3 ? p[i + 3] : m3
        m4 = p[i + 4] > m4 ? p[i + 4] : m4; m5 = p[i + 5] > m5 ? p[i + 5] : m5
        m6 = p[i + 6] > m6 ? p[i + 6] : m6; m7 = p[i + 7] > m7 ? p[i + 7] : m7
        i += 8
    }
    var m = Swift.max(Swift.max(Swift.max(m0, m1), Swift.max(m2, m3)), Swift.max(Swift.max(m4, m5), Swift.max(m6, m7)))
    while i < n { m = p[i] > m ? p[i] : m; i += 1 }
    return m
}

/// Sum over `axes` (negative axes count from the end). `[..., reduced..., ...]` → the shape
/// without those axes (or with extent 1 when `keepDims`). Accumulates in float32 with 8 lanes.
/// Saves nothing; backward broadcasts the gradient back.
public func sum(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
    let ax = Set(axes.map { normAxis($0, x.rank, "sum") })
    let keptShape = (0..<x.rank).map { ax.contains($0) ? 1 : x.shape[$0] }
    let outShape = keepDims ? keptShape : (0..<x.rank).filter { !ax.contains($0) }.map { x.shape[$0] }
    var out = sumKernel(x, ax).reshaped(outShape)
    let inShape = x.shape
    record(&out, [x]) { g in [g.reshaped(keptShape).broadcast(to: inShape).contiguous()] }
    return out
}

/// Mean over `axes`; as `sum`, divided by the number of reduced elements.
public func mean(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
    let ax = Set(axes.map { normAxis($0, x.rank, "mean") })
    let n = ax.reduce(1) { $0 * x.shape[$1] }
    return sum(x, axes: Array(ax), keepDims: keepDims) * (1 / Float(max(n, 1)))
}

/// Sum of every element → a rank-0 tensor.
public func sum(_ x: Tensor) -> Tensor { sum(x.reshaped([x.count]), axes: [0]) }
/// Mean of every element → a rank-0 tensor.
public func mean(_ x: Tensor) -> Tensor { mean(x.reshaped([x.count]), axes: [0]) }

/// Untaped sum over a set of axes; result contiguous with the kept axes in order (flat).
func sumKernel(_ x: Tensor, _ ax: Set<Int>) -> Tensor {
    let kept = (0..<x.rank).filter { !ax.contains($0) }
    let red = (0..<x.rank).filter { ax.contains($0) }
    let K = kept.reduce(1) { $0 * x.shape[$1] }, R = red.reduce(1) { $0 * x.shape[$1] }
    let out = Tensor(uninitialized: [K])
    let o = out.storage.pointer
    if red.isEmpty { stridedCopy(from: x, to: o); return out }
    let trailing = kept.allSatisfy { k in red.allSatisfy { $0 > k } }
    let leading = kept.allSatisfy { k in red.allSatisfy { $0 < k } }
    if leading && x.isContiguous && K > 1 {
        let p = x.ptr
        Parallel.forChunks(K, costPerItem: R) { cols in
            let c0 = cols.lowerBound, w = cols.count
            (o + c0).update(repeating: 0, count: w)
            for r in 0..<R {
                let row = p + r * K + c0
                for j in 0..<w { o[c0 + j] += row[j] }
            }
        }
        return out
    }
    let src = (trailing ? x : x.detached().permuted(kept + red)).contiguous()
    let p = src.ptr
    Parallel.forChunks(K, costPerItem: R) { rows in
        for i in rows { o[i] = rowSum(p + i * R, R) }
    }
    return out
}

/// Applies a row kernel to rows of length `x.shape[axis]`, moving `axis` last if needed.
/// Returns the output with `x`'s shape (a permuted view when the axis was moved).
func rowwise(_ x: Tensor, axis: Int, _ op: String,
             _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    let ax = normAxis(axis, x.rank, op)
    let last = x.rank - 1
    let moved = ax == last ? x.detached() : x.detached().transposed(ax, last)
    let src = moved.contiguous()
    let n = x.rank == 0 ? 1 : src.shape[last]
    let rows = n == 0 ? 0 : src.count / n
    let out = Tensor(uninitialized: src.shape)
    let s = src.ptr, o = out.storage.pointer
    Parallel.forChunks(rows, costPerItem: n * 8) { r in
        for i in r { kernel(s + i * n, o + i * n, n) }
    }
    return ax == last ? out : out.transposed(ax, last)
}

/// Numerically stable softmax of one row: exp(x − max) / Σ (`s` and `o` may be the same row).
@inline(__always)
func softmaxRow(_ s: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, _ n: Int) {
    if UnsafePointer(o) == s { softmaxRowInPlace(o, n); return }
    let m = rowMax(s, n)
    for i in 0..<n { o[i] = fexp(s[i] - m) }
    let inv = 1 / rowSum(o, n)
    for i in 0..<n { o[i] *= inv }
}

/// Softmax of one row in place (one pointer, so the loops vectorise without alias checks).
@inline(__always)
func softmaxRowInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = rowMax(p, n)
    for i in 0..<n { p[i] = fexp(p[i] - m) }
    let inv = 1 / rowSum(p, n)
    for i in 0..<n { p[i] *= inv }
}

/// Softmax over `axis`: exp(x − max) / Σ exp(x − max). Any shape → same shape.
/// Saves the output; backward y · (g − Σ g·y).
public func softmax(_ x: Tensor, axis: Int) -> Tensor {
    var out = rowwise(x, axis: axis, "softmax", softmaxRow)
    let y = out.detached()
    record(&out, [x]) { g in [y * (g - sum(g * y, axes: [axis], keepDims: true))] }
    return out
}

/// Log-softmax over `axis`: x − max − log Σ exp(x − max). Any shape → same shape.
/// Saves the output; backward g − exp(y) · Σ g.
public func logSoftmax(_ x: Tensor, axis: Int) -> Tensor {
    var out = rowwise(x, axis: axis, "logSoftmax") { s, o, n in
        let m = rowMax(s, n)
        for i in 0..<n { o[i] = fexp(s[i] - m) }
        let l = m + logf(rowSum(o, n))
        for i in 0..<n { o[i] = s[i] - l }
    }
    let y = out.detached()
    record(&out, [x]) { g in [g - exp(y) * sum(g, axes: [axis], keepDims: true)] }
    return out
}

/// Layer normalisation over the last axis (PyTorch `nn.LayerNorm(C, eps)`):
/// x `[..., C]` → (x − mean) / √(var + eps) · weight + bias, weight/bias `[C]` or nil,
/// biased variance, two-pass in float32. Saves x, the per-row mean and 1/σ (when recording).
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank >= 1, "layerNorm: scalar input")
    let C = x.shape[x.rank - 1]
    if let w = weight { precondition(w.shape == [C], "layerNorm: weight \(w.shape) for input \(x.shape)") }
    if let b = bias { precondition(b.shape == [C], "layerNorm: bias \(b.shape) for input \(x.shape)") }
    let src = x.contiguous()
    let rows = C == 0 ? 0 : x.count / C
    let out = Tensor(uninitialized: x.shape)
    let recording = needsGrad(x) || (weight.map { needsGrad($0) } ?? false) || (bias.map { needsGrad($0) } ?? false)
    let stats = Tensor(uninitialized: recording ? [rows, 2] : [0])
    let st = stats.storage.pointer
    let wc = weight?.contiguous(), bc = bias?.contiguous()
    let wp = wc.map { UnsafePointer($0.ptr) }, bp = bc.map { UnsafePointer($0.ptr) }
    let s = src.ptr, o = out.storage.pointer
    Parallel.forChunks(rows, costPerItem: C * 4) { r in
        for i in r {
            let xr = s + i * C, yr = o + i * C
            let mean = rowSum(xr, C) / Float(C)
            let v = rowSumSqDev(xr, C, mean)
            let rstd = 1 / (v / Float(C) + eps).squareRoot()
            if recording { st[2 * i] = mean; st[2 * i + 1] = rstd }
            if let wp = wp, let bp = bp {
                for k in 0..<C { yr[k] = (xr[k] - mean) * rstd * wp[k] + bp[k] }
            } else if let wp = wp {
                for k in 0..<C { yr[k] = (xr[k] - mean) * rstd * wp[k] }
            } else if let bp = bp {
                for k in 0..<C { yr[k] = (xr[k] - mean) * rstd + bp[k] }
            } else {
                for k in 0..<C { yr[k] = (xr[k] - mean) * rstd }
            }
        }
    }
    var res = out
    var inputs = [x]
    if let w = weight { inputs.append(w) }
    if let b = bias { inputs.append(b) }
    if recording {
        let xd = src.detached()
        record(&res, inputs) { g in
            let lead = Array(x.shape.dropLast()) + [1]
            let meanT = stats.slice(axis: 1, 0..<1).reshaped(lead)
            let rstdT = stats.slice(axis: 1, 1..<2).reshaped(lead)
            let xhat = (xd - meanT) * rstdT
            let dxhat = weight.map { g * $0.detached() } ?? g
            var r: [Tensor?] = []
            if x.node != nil {
                let m1 = mean(dxhat, axes: [-1], keepDims: true)
                let m2 = mean(dxhat * xhat, axes: [-1], keepDims: true)
                r.append(rstdT * (dxhat - m1 - xhat * m2))
            } else { r.append(nil) }
            let g2 = g.reshaped([-1, C])
            if let w = weight { r.append(w.node != nil ? sum(g2 * xhat.reshaped([-1, C]), axes: [0]) : nil) }
            if let b = bias { r.append(b.node != nil ? sum(g2, axes: [0]) : nil) }
            return r
        }
    }
    return res
}

/// `indexSelect(layerNorm(x, ...), axis: 1, indices: indices)` for x `[B, L, C]` → `[B, K, C]`,
/// `K = indices.count` (LayerNorm is per row, so it commutes with a row gather: the Swin block's
/// norm1 + roll + window partition). Without the tape one pass (each gathered row is normalised
/// straight into its destination, two cores); when recording it is built from the taped ops.
/// Traps on mismatched shapes or an index outside `0..<L`.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float, gatheringRows indices: [Int]) -> Tensor {
    precondition(x.rank == 3, "layerNorm(gatheringRows:): x \(x.shape) must be [B, L, C]")
    let recording = needsGrad(x) || (weight.map { needsGrad($0) } ?? false) || (bias.map { needsGrad($0) } ?? false)
    if recording || weight == nil || bias == nil {
        return indexSelect(layerNorm(x, weight: weight, bias: bias, eps: eps), axis: 1, indices: indices)
    }
    let B = x.shape[0], L = x.shape[1], C = x.shape[2], K = indices.count
    precondition(weight!.shape == [C] && bias!.shape == [C], "layerNorm: weight \(weight!.shape), bias \(bias!.shape) for input \(x.shape)")
    for i in indices { precondition(i >= 0 && i < L, "layerNorm(gatheringRows:): index \(i) out of range 0..<\(L)") }
    let src = x.contiguous(), wc = weight!.contiguous(), bc = bias!.contiguous()
    let out = Tensor(uninitialized: [B, K, C])
    let s = UnsafePointer(src.ptr), o = out.storage.pointer
    let wp = UnsafePointer(wc.ptr), bp = UnsafePointer(bc.ptr)
    indices.withUnsafeBufferPointer { ib in
        Parallel.forChunks(B * K, costPerItem: C * 4) { r in
            for t in r {
                let b = t / K, j = t % K
                let xr = s + (b * L + ib[j]) * C, yr = o + t * C
                let mean = rowSum(xr, C) / Float(C)
                let v = rowSumSqDev(xr, C, mean)
                let rstd = 1 / (v / Float(C) + eps).squareRoot()
                for k in 0..<C { yr[k] = (xr[k] - mean) * rstd * wp[k] + bp[k] }
            }
        }
    }
    return out
}

/// L2 normalisation over `axis` (torch `F.normalize(x, dim=axis, eps)`): x / max(‖x‖₂, eps).
/// Any shape → same shape. Composite (saves what its parts save).
public func l2Normalize(_ x: Tensor, axis: Int, eps: Float = 1e-12) -> Tensor {
    let norm = sqrt(sum(x * x, axes: [axis], keepDims: true))
    return x / clamp(norm, min: eps)
}

/// Mean over the token axis (`axis`), removing it: e.g. `[B, L, C]`, axis 1 → `[B, C]`
/// (Swin's average pool over tokens). Saves nothing.
public func meanPool(_ x: Tensor, axis: Int) -> Tensor { mean(x, axes: [axis]) }
