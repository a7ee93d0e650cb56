import CBLAS
import CKernels

/// Fused scaled-dot-product attention: softmax(q·kᵀ·scale + bias + mask + keyPadding)·v.
///
/// - Parameters:
///   - q: `[B, H, Nq, D]` queries (any strides with unit stride on D, e.g. a slice of a
///     permuted qkv projection, is read in place).
///   - k: `[B, H, Nk, D]` keys.
///   - v: `[B, H, Nk, Dv]` values.
///   - scale: multiplies q·kᵀ (usually D^-½).
///   - bias: `[H, Nq, Nk]`, the same for every batch entry (Swin's relative position bias), or nil.
///   - mask: `[M, Nq, Nk]` additive, `B % M == 0`; batch entry b uses `mask[b % M]` (Swin's
///     shifted-window mask with b = image · nW + window, M = nW), or nil.
///   - keyPadding: `[B, Nk]` additive (0 or a large negative), or nil (BERT attention masks).
///   - maskNonzero: `[M]` or nil. `maskNonzero[m] == false` promises that `mask[m]` is all
///     zeros; the AVX2 kernel then skips reading and adding it (Swin's shift mask is zero in
///     every window but the last row and column of the window grid: 49 of 64 at stage 1); the
///     other paths add every window. Compute it with `attentionMaskNonzero(_:)`. nil: every
///     window is added. The result does not depend on it (adding +0 changes no score). Debug
///     builds stop with an error when a window marked false has a non-zero entry.
/// - Returns: `[B, H, Nq, Dv]`, a view of a `[B, Nq, H, Dv]` buffer, so that
///   `.transposed(1, 2).reshaped([B, Nq, H·Dv])` costs nothing.
///
/// Without the tape, on AVX2 + FMA CPUs with Dv % 8 == 0, the C kernel `ramk_attention_f32`
/// (CKernels/attention.c, via `attentionAVX2`) computes each (b, h) block with its scores kept
/// in L1, parallel over blocks on our threads. Otherwise each block is computed by a small
/// register-blocked GEMM or sgemm (q·kᵀ), an in-place fused scale/bias/mask/softmax and a GEMM
/// (·v), parallel over blocks with single-threaded BLAS; only one Nq×Nk block per worker exists
/// at a time. With the tape it is
/// the composition matmul → add → softmax → matmul (saves q, k, v and the probabilities).
public func attention(q: Tensor, k: Tensor, v: Tensor, scale: Float, bias: Tensor? = nil,
                      mask: Tensor? = nil, keyPadding: Tensor? = nil, maskNonzero: [Bool]? = nil) -> Tensor {
    precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "attention: q \(q.shape), k \(k.shape), v \(v.shape) must be [B, H, N, D]")
    let B = q.shape[0], H = q.shape[1], Nq = q.shape[2], D = q.shape[3]
    let Nk = k.shape[2], Dv = v.shape[3]
    precondition(k.shape == [B, H, Nk, D] && v.shape == [B, H, Nk, Dv],
                 "attention: q \(q.shape), k \(k.shape), v \(v.shape) do not match")
    if let b = bias { precondition(b.shape == [H, Nq, Nk], "attention: bias \(b.shape), expected [\(H), \(Nq), \(Nk)]") }
    if let m = mask { precondition(m.rank == 3 && m.shape[0] > 0 && B % m.shape[0] == 0 && m.shape[1] == Nq && m.shape[2] == Nk,
                                   "attention: mask \(m.shape), expected [M, \(Nq), \(Nk)] with \(B) % M == 0") }
    if let kp = keyPadding { precondition(kp.shape == [B, Nk], "attention: keyPadding \(kp.shape), expected [\(B), \(Nk)]") }
    if let nz = maskNonzero {
        precondition(mask != nil && nz.count == mask!.shape[0],
                     "attention: maskNonzero has \(nz.count) flags, expected one per mask window (\(mask?.shape[0] ?? 0))")
        #if DEBUG
        // Debug builds (and so `swift test`) check the promise; release builds trust it.
        let actual = attentionMaskNonzero(mask!)
        if let w = nz.indices.first(where: { !nz[$0] && actual[$0] }) {
            preconditionFailure("attention: maskNonzero[\(w)] is false but mask window \(w) has non-zero entries")
        }
        #endif
    }

    let anyGrad = needsGrad(q, k, v) || [bias, mask, keyPadding].contains { $0.map { needsGrad($0) } ?? false }
    if anyGrad {
        var s = matmul(q, k, transposeB: true) * scale
        if let b = bias { s = s + b }
        if let m = mask {
            let M = m.shape[0]
            s = (s.reshaped([B / M, M, H, Nq, Nk]) + m.reshaped([M, 1, Nq, Nk])).reshaped([B, H, Nq, Nk])
        }
        if let kp = keyPadding { s = s + kp.reshaped([B, 1, 1, Nk]) }
        return matmul(softmax(s, axis: -1), v)
    }
    return attentionKernel(q, k, v, scale, bias, mask, keyPadding, maskNonzero: maskNonzero)
}

/// For a `[M, Nq, Nk]` additive mask: whether each window `mask[m]` has a non-zero entry
/// (the `maskNonzero` argument of `attention`). Reads the whole mask once.
public func attentionMaskNonzero(_ mask: Tensor) -> [Bool] {
    precondition(mask.rank == 3, "attentionMaskNonzero: mask \(mask.shape), expected [M, Nq, Nk]")
    let m = mask.contiguous()
    let M = m.shape[0], n = m.shape[1] * m.shape[2]
    return withExtendedLifetime(m) {
        let p = m.ptr
        return (0..<M).map { w in !UnsafeBufferPointer(start: p + w * n, count: n).allSatisfy { $0 == 0 } }
    }
}

func attentionKernel(_ q0: Tensor, _ k0: Tensor, _ v0: Tensor, _ scale: Float,
                     _ bias: Tensor?, _ mask: Tensor?, _ keyPadding: Tensor?, maskNonzero: [Bool]? = nil,
                     allowAVX2: Bool = true) -> Tensor {
    let B = q0.shape[0], H = q0.shape[1], Nq = q0.shape[2], D = q0.shape[3]
    let Nk = k0.shape[2], Dv = v0.shape[3]
    var q = q0, k = k0, v = v0
    if q.strides[3] != 1 && D > 1 { q = q.contiguous() }
    if k.strides[3] != 1 && D > 1 { k = k.contiguous() }
    if v.strides[3] != 1 && Dv > 1 { v = v.contiguous() }
    var lq = matLayout(rows: Nq, cols: D, rs: q.strides[2], cs: 1)
    if lq == nil { q = q.contiguous(); lq = matLayout(rows: Nq, cols: D, rs: D, cs: 1) }
    var lk = matLayout(rows: D, cols: Nk, rs: 1, cs: k.strides[2])      // kᵀ view
    if lk == nil { k = k.contiguous(); lk = matLayout(rows: D, cols: Nk, rs: 1, cs: D) }
    var lv = matLayout(rows: Nk, cols: Dv, rs: v.strides[2], cs: 1)
    if lv == nil { v = v.contiguous(); lv = matLayout(rows: Nk, cols: Dv, rs: Dv, cs: 1) }
    let bc = bias?.contiguous(), mc = mask?.contiguous(), kc = keyPadding?.contiguous()
    if allowAVX2 && CPUFeatures.avx2FMA && Dv % 8 == 0 && Dv > 0 && Nk > 0 && Nq > 0 && D > 0 && B * H > 0
        && q.strides[3] == 1 && k.strides[3] == 1 && v.strides[3] == 1 {
        return attentionAVX2(q, k, v, scale, bc, mc, kc, maskNonzero: maskNonzero)
    }
    let M = mc?.shape[0] ?? 1
    // Output buffer laid out [B, Nq, H, Dv]; returned as a [B, H, Nq, Dv] view.
    let buf = Tensor(uninitialized: [B, Nq, H, Dv])
    let o = buf.storage.pointer
    let qp = q.ptr, kp = k.ptr, vp = v.ptr
    let qs = q.strides, ks = k.strides, vs = v.strides
    let bp = bc.map { UnsafePointer($0.ptr) }, mp = mc.map { UnsafePointer($0.ptr) }, pp = kc.map { UnsafePointer($0.ptr) }
    let LQ = lq!, LK = lk!, LV = lv!
    let blocks = B * H
    let work = Nq * Nk * (D + Dv)
    // Small blocks (Swin windows, ViT / BERT heads) use the register-blocked kernel on a packed kᵀ;
    // blocks whose operands exceed ~256 KB go to BLAS.
    let useSmall = D * Nk <= 65536 && Nk * Dv <= 65536 && qs[3] == 1 && vs[3] == 1
    // Rows of a block are processed in chunks of `chunk` query rows: scores for the chunk
    // (≤ chunk × Nk floats, in L1), softmax, then ·v for those rows — so on the small-GEMM
    // path the scores never leave L1. The BLAS path does a whole block at once.
    let chunk = useSmall ? 24 : max(Nq, 1)
    let run = { (range: Range<Int>) in
        let S = UnsafeMutablePointer<Float>.allocate(capacity: max(min(chunk, Nq) * Nk, 1))
        let KT = UnsafeMutablePointer<Float>.allocate(capacity: useSmall ? max(D * Nk, 1) : 1)
        let inv = UnsafeMutablePointer<Float>.allocate(capacity: max(chunk, 1))
        defer { S.deallocate(); KT.deallocate(); inv.deallocate() }
        for blk in range {
            let b = blk / H, h = blk % H
            let qb = qp + b * qs[0] + h * qs[1], kb = kp + b * ks[0] + h * ks[1], vb = vp + b * vs[0] + h * vs[1]
            let ob = o + b * Nq * H * Dv + h * Dv
            let biasBlock = bp.map { $0 + h * Nq * Nk }, maskBlock = mp.map { $0 + (b % M) * Nq * Nk }
            let padRow = pp.map { $0 + b * Nk }
            if useSmall {
                // kᵀ packed as [D, Nk].
                let kr = ks[2], kc = ks[3]
                for d in 0..<D {
                    let src = kb + d * kc, dst = KT + d * Nk
                    for j in 0..<Nk { dst[j] = src[j * kr] }
                }
            }
            var i0 = 0
            while i0 < Nq {
                let rows = min(chunk, Nq - i0)
                let qc = qb + i0 * qs[2]
                let bc = biasBlock.map { $0 + i0 * Nk }, mc = maskBlock.map { $0 + i0 * Nk }
                // Scores: scale + bias + mask come out of the small-GEMM epilogue.
                if useSmall {
                    switch (bc, mc) {
                    case let (bb?, mb?): smallGemm(rows, Nk, D, qc, qs[2], KT, Nk, S, Nk, ScaleAdd2Epilogue(alpha: scale, x: bb, y: mb, ldx: Nk))
                    case let (bb?, nil): smallGemm(rows, Nk, D, qc, qs[2], KT, Nk, S, Nk, ScaleAddEpilogue(alpha: scale, x: bb, ldx: Nk))
                    case let (nil, mb?): smallGemm(rows, Nk, D, qc, qs[2], KT, Nk, S, Nk, ScaleAddEpilogue(alpha: scale, x: mb, ldx: Nk))
                    case (nil, nil): smallGemm(rows, Nk, D, qc, qs[2], KT, Nk, S, Nk, ScaleEpilogue(alpha: scale))
                    }
                } else {
                    gemm(rows, Nk, D, qc, LQ, kb, LK, S, ldc: Nk, alpha: scale)
                    for i in 0..<rows {
                        let row = S + i * Nk
                        if let bb = bc { let r = bb + i * Nk; for j in 0..<Nk { row[j] += r[j] } }
                        if let mb = mc { let r = mb + i * Nk; for j in 0..<Nk { row[j] += r[j] } }
                    }
                }
                // Softmax numerators and 1/Σ; the division is applied to the Dv-wide output rows.
                for i in 0..<rows {
                    let row = S + i * Nk
                    if let pr = padRow { for j in 0..<Nk { row[j] += pr[j] } }
                    let mx = rowMax(row, Nk)
                    for j in 0..<Nk { row[j] = fexp(row[j] - mx) }
                    inv[i] = 1 / rowSum(row, Nk)
                }
                let oc = ob + i0 * H * Dv
                if useSmall {
                    smallGemm(rows, Dv, Nk, S, Nk, vb, vs[2], oc, H * Dv, PlainEpilogue())
                } else {
                    gemm(rows, Dv, Nk, S, MatLayout(trans: false, ld: max(Nk, 1)), vb, LV, oc, ldc: H * Dv)
                }
                for i in 0..<rows {
                    let orow = oc + i * H * Dv, f = inv[i]
                    for d in 0..<Dv { orow[d] *= f }
                }
                i0 += rows
            }
        }
    }
    if blocks >= 2 && Parallel.threads > 1 && blocks * work >= 200_000 {
        // Dynamic hand-out of groups of blocks (8 per worker), so a worker that loses its core
        // for a while does not leave the other idle at the end.
        let groups = min(blocks, Parallel.threads * 8)
        Parallel.withSingleThreadedBLAS {
            Parallel.forEach(groups) { g in run((blocks * g / groups)..<(blocks * (g + 1) / groups)) }
        }
    } else {
        run(0..<blocks)
    }
    return buf.permuted([0, 2, 1, 3])
}

/// The no-tape attention on AVX2 + FMA: the C kernel `ramk_attention_f32` (CKernels), which
/// keeps each block's packed kᵀ / v and 6 rows of scores in cache and fuses scale, bias, mask,
/// key padding, the row maximum, exp, the row sum and the final 1/Σ into the two small GEMMs.
/// q/k/v have unit stride on the last axis; bias / mask / keyPadding are contiguous; Dv % 8 == 0.
/// Work items are (block, query-row range); blocks are split into row ranges only when there
/// are too few blocks to keep every worker busy (BERT cross-attention: 12 heads × 4585 queries).
/// `streamOutput` (nil: automatic) writes the output with non-temporal stores, which pays when
/// it is larger than the last-level cache (Swin-L stage 1 at 384: 64 MB) and would only evict
/// its readers' data otherwise.
func attentionAVX2(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ scale: Float,
                   _ bias: Tensor?, _ mask: Tensor?, _ keyPadding: Tensor?, maskNonzero: [Bool]? = nil,
                   streamOutput: Bool? = nil) -> Tensor {
    let B = q.shape[0], H = q.shape[1], Nq = q.shape[2], D = q.shape[3]
    let Nk = k.shape[2], Dv = v.shape[3]
    let buf = Tensor(uninitialized: [B, Nq, H, Dv])
    let blocks = B * H
    let workers = Parallel.threads
    let parallel = workers > 1 && blocks * Nq * Nk * (D + Dv) >= 200_000
    var rowChunks = 1
    if parallel && blocks < workers * 8 {
        rowChunks = max(1, min((workers * 8 + blocks - 1) / blocks, Nq / 48))
    }
    let items = blocks * rowChunks
    let qs = q.strides, ks = k.strides, vs = v.strides
    var args = ramk_attention_args()
    args.q = UnsafePointer(q.ptr); args.k = UnsafePointer(k.ptr); args.v = UnsafePointer(v.ptr)
    args.q_sb = qs[0]; args.q_sh = qs[1]; args.q_sr = qs[2]
    args.k_sb = ks[0]; args.k_sh = ks[1]; args.k_sr = ks[2]
    args.v_sb = vs[0]; args.v_sh = vs[1]; args.v_sr = vs[2]
    args.B = B; args.H = H; args.Nq = Nq; args.Nk = Nk; args.D = D; args.Dv = Dv
    args.scale = scale
    args.bias = bias.map { UnsafePointer($0.ptr) }
    args.mask = mask.map { UnsafePointer($0.ptr) }
    args.M = mask?.shape[0] ?? 1
    args.key_padding = keyPadding.map { UnsafePointer($0.ptr) }
    args.out = buf.storage.pointer
    args.row_chunks = rowChunks
    args.stream_out = (streamOutput ?? (B * Nq * H * Dv * 4 > 32 << 20)) ? 1 : 0
    // One flag per mask window, or none (checked here too: release builds drop preconditions,
    // and the kernel indexes the flags by window).
    let flags: [UInt8]? = maskNonzero.flatMap { $0.count == args.M && args.mask != nil ? $0.map { $0 ? 1 : 0 } : nil }
    let run = { (lo: Int, hi: Int) in
        var a = args
        let rc = flags.withOptionalBuffer { nz in
            a.mask_nonzero = nz
            return withUnsafePointer(to: a) { ramk_attention_f32($0, lo, hi) }
        }
        precondition(rc == 0, "attention: out of memory for the kernel's scratch")
    }
    withExtendedLifetime((q, k, v, bias, mask, keyPadding)) {
        if parallel && items >= 2 {
            // Dynamic hand-out of ~16 ranges per worker: a worker that loses its core for a
            // while (shared machine) does not leave the other idle at the end.
            let groups = min(items, workers * 16)
            Parallel.forEach(groups) { g in run(items * g / groups, items * (g + 1) / groups) }
        } else {
            run(0, items)
        }
    }
    return buf.permuted([0, 2, 1, 3])
}

private extension Optional where Wrapped == [UInt8] {
    /// Calls `body` with a pointer to the bytes, or nil.
    func withOptionalBuffer<R>(_ body: (UnsafePointer<UInt8>?) -> R) -> R {
        switch self {
        case .some(let bytes): return bytes.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
