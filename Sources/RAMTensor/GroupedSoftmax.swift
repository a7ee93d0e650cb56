/// Dot product of two contiguous rows of `n` floats (four 8-lane accumulators).
@inline(__always)
func rowDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    var i = 0
    while i + 32 <= n {
        let o = i * 4
        a0 += ra.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
        a1 += ra.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
        a2 += ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
        a3 += ra.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
        i += 32
    }
    while i + 8 <= n {
        a0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = ((a0 + a1) + (a2 + a3)).sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// `y[0..<n] += w · x[0..<n]` over contiguous rows.
@inline(__always)
func rowAxpy(_ w: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
    let wv = SIMD8<Float>(repeating: w)
    var i = 0
    while i + 8 <= n {
        let o = i * 4
        let v = ry.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            + wv * rx.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
        ry.storeBytes(of: v, toByteOffset: o, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += w * x[i]; i += 1 }
}

/// Softmax-weighted sum of row groups (RAM++'s description reweighting):
/// for every query row `b` and group `n` of `D` consecutive table rows,
/// `w = softmax_d(scale · query[b] · table[n·D + d])` and `out[b, n] = Σ_d w_d · table[n·D + d]`.
///
/// - Parameters:
///   - query: `[B, C]`.
///   - table: `[N·D, C]`; its row count must be a multiple of `groupSize`.
///   - groupSize: `D ≥ 1`, rows per group.
///   - scale: multiplies the dot products before the softmax.
/// - Returns: `[B, N, C]`.
///
/// Without the tape: one fused pass over `table` (each group is read once from memory for all
/// `B` query rows, then re-read from cache for the weighted sum), groups split over the cores;
/// no `[B, N·D]` score tensor is built. When recording (some input requires a gradient), it is
/// `matmul(softmax(scale · query · tableᵀ), table)` built from taped ops (saves what they save).
/// Traps on mismatched shapes.
public func groupedSoftmaxSum(query: Tensor, table: Tensor, groupSize d: Int, scale: Float) -> Tensor {
    precondition(query.rank == 2 && table.rank == 2 && query.shape[1] == table.shape[1] && d >= 1
                 && table.shape[0] % d == 0,
                 "groupedSoftmaxSum: query \(query.shape), table \(table.shape), groupSize \(d)")
    let b = query.shape[0], c = query.shape[1], n = table.shape[0] / d
    if needsGrad(query, table) {
        let sims = matmul(query, table, transposeB: true) * scale                      // [B, N·D]
        let w = softmax(sims.reshaped([b, n, d]), axis: 2)                              // [B, N, D]
        return matmul(w.reshaped([b, n, 1, d]), table.reshaped([n, d, c])).reshaped([b, n, c])
    }
    let q = query.contiguous(), t = table.contiguous()
    let out = Tensor(uninitialized: [b, n, c])
    let qp = UnsafePointer(q.ptr), tp = UnsafePointer(t.ptr), op = out.storage.pointer
    Parallel.forChunks(n, costPerItem: 4 * b * d * c) { range in
        let s = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { s.deallocate() }
        for g in range {
            let rows = tp + g * d * c
            for i in 0..<b {
                let qi = qp + i * c
                var mx = -Float.infinity
                for j in 0..<d {
                    let v = scale * rowDot(qi, rows + j * c, c)
                    s[j] = v
                    mx = max(mx, v)
                }
                var total: Float = 0
                for j in 0..<d { let e = fexp(s[j] - mx); s[j] = e; total += e }
                let inv = 1 / total
                let o = op + (i * n + g) * c
                o.initialize(repeating: 0, count: c)
                for j in 0..<d { rowAxpy(s[j] * inv, rows + j * c, o, c) }
            }
        }
    }
    return out
}
