import CBLAS

/// How a 2-D strided view is handed to BLAS: row-major with leading dimension `ld`, or the
/// transpose of a row-major matrix (`trans`) with leading dimension `ld`.
struct MatLayout { let trans: Bool; let ld: Int }

/// BLAS layout of a rows×cols view with strides (rs, cs), or nil when neither axis is unit-stride.
func matLayout(rows: Int, cols: Int, rs: Int, cs: Int) -> MatLayout? {
    if cs == 1 || cols == 1 {
        if rows == 1 { return MatLayout(trans: false, ld: max(cols, 1)) }
        if rs >= cols { return MatLayout(trans: false, ld: max(rs, 1)) }
    }
    if rs == 1 || rows == 1 {
        if cols == 1 { return MatLayout(trans: true, ld: max(rows, 1)) }
        if cs >= rows { return MatLayout(trans: true, ld: max(cs, 1)) }
    }
    return nil
}

/// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C (row-major, cblas_sgemm).
@inline(__always)
func gemm(_ m: Int, _ n: Int, _ k: Int,
          _ a: UnsafePointer<Float>, _ la: MatLayout,
          _ b: UnsafePointer<Float>, _ lb: MatLayout,
          _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
    Parallel.configureBLAS()
    if m == 0 || n == 0 { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    if usePackedGemm(m, n, k) {
        packedGemm(m, n, k, a, la, b, lb, c, ldc: ldc, alpha: alpha, beta: beta)
        return
    }
    cblas_sgemm(CblasRowMajor, la.trans ? CblasTrans : CblasNoTrans, lb.trans ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(la.ld), b, Int32(lb.ld), beta, c, Int32(ldc))
}

/// If the axes `0..<upTo` of `t` can be read as one axis with a single stride, that stride.
func mergedStride(_ t: Tensor, upTo: Int) -> Int? {
    var step: Int? = nil
    var extent = 1
    for d in stride(from: upTo - 1, through: 0, by: -1) where t.shape[d] != 1 {
        if let s = step {
            if t.strides[d] != s * extent { return nil }
        } else { step = t.strides[d] }
        extent *= t.shape[d]
    }
    return step ?? 1
}

/// Matrix product over the last two axes with broadcast batch axes:
/// a `[..., M, K]` · b `[..., K, N]` → `[..., M, N]` (batch axes broadcast, NumPy rules).
/// `transposeA` reads a as `[..., K, M]` (and `transposeB` b as `[..., N, K]`); transposes
/// and transposed views are passed to cblas_sgemm, not copied. When b has no batch axes and
/// a's batch rows are evenly strided, the whole product is one GEMM.
/// Saves a and b (when recording). Traps on rank < 2 or mismatched K.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs rank ≥ 2, got \(a.shape) and \(b.shape)")
    let A = transposeA ? a.detached().transposed(-1, -2) : a.detached()
    let B = transposeB ? b.detached().transposed(-1, -2) : b.detached()
    var out = matmulKernel(A, B)
    record(&out, [a, b]) { g in
        var ga: Tensor? = nil, gb: Tensor? = nil
        if a.node != nil {
            let d = matmul(g, b, transposeB: !transposeB)   // dop(A) = dC · op(B)ᵀ
            ga = sumToShape(transposeA ? d.transposed(-1, -2) : d, a.shape)
        }
        if b.node != nil {
            let d = matmul(a, g, transposeA: !transposeA)   // dop(B) = op(A)ᵀ · dC
            gb = sumToShape(transposeB ? d.transposed(-1, -2) : d, b.shape)
        }
        return [ga, gb]
    }
    return out
}

/// The untaped product of two views [..., M, K] · [..., K, N].
func matmulKernel(_ a0: Tensor, _ b0: Tensor) -> Tensor {
    var a = a0, b = b0
    let M = a.shape[a.rank - 2], K = a.shape[a.rank - 1]
    let K2 = b.shape[b.rank - 2], N = b.shape[b.rank - 1]
    precondition(K == K2, "matmul: inner extents differ: \(a0.shape) · \(b0.shape)")
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let batch = broadcastShapes(batchA, batchB, op: "matmul")
    var la = matLayout(rows: M, cols: K, rs: a.strides[a.rank - 2], cs: a.strides[a.rank - 1])
    if la == nil { a = a.contiguous(); la = matLayout(rows: M, cols: K, rs: K, cs: 1) }
    var lb = matLayout(rows: K, cols: N, rs: b.strides[b.rank - 2], cs: b.strides[b.rank - 1])
    if lb == nil { b = b.contiguous(); lb = matLayout(rows: K, cols: N, rs: N, cs: 1) }
    let out = Tensor(uninitialized: batch + [M, N])
    let o = out.storage.pointer
    // One GEMM: b has no batch axes and a's [batch..., M] rows are evenly strided, row-major.
    if batchB.isEmpty, !la!.trans, let rs = mergedStride(a, upTo: a.rank - 1), rs >= K || a.count / max(K, 1) <= 1 {
        let rows = shapeCount(batch) * M
        gemm(rows, N, K, a.ptr, MatLayout(trans: false, ld: max(rs, K, 1)), b.ptr, lb!, o, ldc: N)
        return out
    }
    let nb = shapeCount(batch)
    if nb == 0 { return out }
    let sa = broadcastStrides(Tensor(storage: a.storage, shape: batchA, strides: Array(a.strides.dropLast(2)), offset: 0),
                              to: batch, op: "matmul")
    let sb = broadcastStrides(Tensor(storage: b.storage, shape: batchB, strides: Array(b.strides.dropLast(2)), offset: 0),
                              to: batch, op: "matmul")
    // Offsets of every batch entry.
    var offs = [Int](repeating: 0, count: nb * 2)
    if batch.isEmpty { offs = [0, 0] } else {
        let loop = StridedLoop(shape: batch, strides: [sa, sb])
        var r = 0
        loop.forRows(0..<loop.rows) { off in
            for i in 0..<loop.n {
                offs[2 * r] = off[0] + i * loop.inner[0]
                offs[2 * r + 1] = off[1] + i * loop.inner[1]
                r += 1
            }
        }
    }
    let ap = a.ptr, bp = b.ptr, LA = la!, LB = lb!
    let flopsEach = M * N * K
    if nb >= 2 && flopsEach < 4_000_000 {
        Parallel.withSingleThreadedBLAS {
            offs.withUnsafeBufferPointer { ob in
                Parallel.forEach(nb) { i in
                    gemm(M, N, K, ap + ob[2 * i], LA, bp + ob[2 * i + 1], LB, o + i * M * N, ldc: N)
                }
            }
        }
    } else {
        for i in 0..<nb { gemm(M, N, K, ap + offs[2 * i], LA, bp + offs[2 * i + 1], LB, o + i * M * N, ldc: N) }
    }
    return out
}

/// Fully connected layer (PyTorch `F.linear`): x `[..., in]`, weight `[out, in]` (PyTorch
/// layout, passed to sgemm transposed), bias `[out]` or nil → `[..., out]`.
/// The bias is written into the output first and sgemm accumulates onto it (beta = 1).
/// Saves x and weight (when recording).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
                 "linear: x \(x.shape) does not match weight \(weight.shape) ([out, in])")
    let outF = weight.shape[0], inF = weight.shape[1]
    if let b = bias { precondition(b.shape == [outF], "linear: bias \(b.shape) for weight \(weight.shape)") }
    var out = linearKernel(x, weight, bias)
    var inputs = [x, weight]
    if let b = bias { inputs.append(b) }
    record(&out, inputs) { g in
        let g2 = g.reshaped([-1, outF])
        let gx: Tensor? = x.node != nil ? matmul(g2, weight).reshaped(x.shape) : nil
        let gw: Tensor? = weight.node != nil ? matmul(g2, x.reshaped([-1, inF]), transposeA: true) : nil
        var r = [gx, gw]
        if let b = bias { r.append(b.node != nil ? sum(g2, axes: [0]) : nil) }
        return r
    }
    return out
}

/// Linear layer plus a residual: `residual + x·Wᵀ + b` (x `[..., in]`, weight `[out, in]`,
/// bias `[out]` or nil, residual `[..., out]`, the output's shape) → `[..., out]`.
/// Without the tape the residual and the bias are written into the output in one pass and
/// sgemm accumulates onto them (beta = 1): no separate add pass, no extra buffer. When
/// recording it is `linear(x, ...) + residual` (saves what those save). Traps on mismatched
/// shapes.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, adding residual: Tensor) -> Tensor {
    precondition(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1]
                 && residual.shape == Array(x.shape.dropLast()) + [weight.shape[0]],
                 "linear(adding:): x \(x.shape), weight \(weight.shape), residual \(residual.shape)")
    if needsGrad(x, weight, residual) || (bias.map { needsGrad($0) } ?? false) {
        return linear(x, weight: weight, bias: bias) + residual
    }
    if let b = bias { precondition(b.shape == [weight.shape[0]], "linear: bias \(b.shape) for weight \(weight.shape)") }
    return linearKernel(x, weight, bias, residual: residual.contiguous())
}

/// Untaped x·Wᵀ + b (+ residual, contiguous, when given), or gelu(x·Wᵀ + b) when `gelu`
/// (not together with a residual). With AVX2 + FMA the bias, GELU and residual are fused into
/// the packed GEMM's last write of each tile; otherwise OpenBLAS accumulates onto the bias /
/// residual written first, and GELU is one more pass.
func linearKernel(_ x0: Tensor, _ w0: Tensor, _ bias: Tensor?, residual: Tensor? = nil, gelu: Bool = false) -> Tensor {
    precondition(!(gelu && residual != nil), "linearKernel: gelu with a residual is not supported")
    let outF = w0.shape[0], inF = w0.shape[1]
    var x = x0
    let rowsShape = Array(x.shape.dropLast())
    let M = shapeCount(rowsShape)
    var rs = mergedStride(x, upTo: x.rank - 1)
    if x.strides[x.rank - 1] != 1 && inF > 1 { rs = nil }
    if rs == nil || (rs! < inF && M > 1) { x = x.contiguous(); rs = inF }
    var w = w0
    // weight [out, in] read as Wᵀ [in, out].
    var lw = matLayout(rows: inF, cols: outF, rs: w.strides[1], cs: w.strides[0])
    if lw == nil { w = w.contiguous(); lw = matLayout(rows: inF, cols: outF, rs: 1, cs: inF) }
    let out = Tensor(uninitialized: rowsShape + [outF])
    let o = out.storage.pointer
    if M > 0 && outF > 0 && usePackedGemm(M, outF, inF) {
        let bc = bias?.contiguous()
        withExtendedLifetime((bc, residual)) {
            packedGemm(M, outF, inF, x.ptr, MatLayout(trans: false, ld: max(rs!, inF, 1)), w.ptr, lw!, o, ldc: outF,
                       bias: bc.map { UnsafePointer($0.ptr) }, residual: residual.map { UnsafePointer($0.ptr) },
                       ldr: outF, gelu: gelu)
        }
        return out
    }
    var beta: Float = 0
    if let res = residual {
        let rp = UnsafePointer(res.ptr)
        if let b = bias {
            let bc = b.contiguous()
            let bp = UnsafePointer(bc.ptr)
            Parallel.forChunks(M, costPerItem: outF) { r in
                for i in r {
                    let dst = o + i * outF, src = rp + i * outF
                    for j in 0..<outF { dst[j] = src[j] + bp[j] }
                }
            }
        } else {
            Parallel.forChunks(M, costPerItem: outF) { r in
                (o + r.lowerBound * outF).update(from: rp + r.lowerBound * outF, count: r.count * outF)
            }
        }
        beta = 1
    } else if let b = bias {
        let bc = b.contiguous()
        let bp = bc.ptr
        Parallel.forChunks(M, costPerItem: outF) { r in
            for i in r { (o + i * outF).update(from: bp, count: outF) }
        }
        beta = 1
    }
    gemm(M, outF, inF, x.ptr, MatLayout(trans: false, ld: max(rs!, inF, 1)), w.ptr, lw!, o, ldc: outF, beta: beta)
    if gelu {
        Parallel.forChunks(out.count, costPerItem: 4) { r in unaryInPlace(o + r.lowerBound, r.count, GeluOp()) }
    }
    return out
}

/// Fused linear + bias + exact GELU: gelu(x·Wᵀ + b), shapes as `linear`. Without the tape the
/// GELU is applied in place on the GEMM output (one pass, two cores); with the tape it is
/// `gelu(linear(...))` (saves x, weight and the pre-activation).
public func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    if needsGrad(x, weight) || (bias.map { needsGrad($0) } ?? false) {
        return gelu(linear(x, weight: weight, bias: bias))
    }
    precondition(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
                 "linearGELU: x \(x.shape) does not match weight \(weight.shape) ([out, in])")
    if let b = bias { precondition(b.shape == [weight.shape[0]], "linearGELU: bias \(b.shape) for weight \(weight.shape)") }
    return linearKernel(x, weight, bias, gelu: true)
}
