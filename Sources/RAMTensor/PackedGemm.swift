import CKernels

/// RAMKit's own packed SGEMM (CKernels `ramk_sgemm`, AVX2 + FMA) with the linear layers'
/// epilogue fused into the last write of each C tile.
///
/// `gemm` and the linear kernels use it when the CPU has AVX2 + FMA (`CPUFeatures.avx2FMA`)
/// and C has at least one 6×16 micro-tile; OpenBLAS otherwise.
/// Each element of C is summed in the same order whatever m is and however C is split over
/// workers (K slices depend on k only), so an image's outputs do not depend on
/// `Infer.batch_size` or `RAMKIT_NUM_THREADS`. That is why there is no minimum product size:
/// with one (2^20 multiply-adds), the ViT's 197×64·64×64 projection went to OpenBLAS at batch 1
/// and here at batch 3, and OpenBLAS's sums also change with its thread count.
/// Two workers run independent halves of C (split along M or N, chosen in C from the shape),
/// each with its own per-thread packing buffers: no barrier, and nothing allocated per call
/// after a thread's first GEMM.

/// Smallest m·n·k split over the two workers.
let packedGemmParallelWork = 1 << 22

/// Whether `gemm` / `linear` use the packed GEMM for an m×n×k product: at least one 6×16
/// micro-tile wide, whatever m·n·k (see above) (a product with n < 16 or m < 6, such as the tagging head's
/// final 768 → 1 layer, would waste most of every tile on zero padding; OpenBLAS does those).
@inline(__always)
func usePackedGemm(_ m: Int, _ n: Int, _ k: Int) -> Bool {
    CPUFeatures.avx2FMA && m >= 6 && n >= 16
}

/// C[m×n] = epilogue(alpha · op(A) · op(B) + beta · C) with the packed AVX2 kernel; the epilogue
/// adds `bias[j]` (when given), applies the exact GELU (when `gelu`), then adds
/// `residual[i·ldr + j]` (when given). C is not read when beta == 0. Requires AVX2 + FMA.
/// Runs on `Parallel.threads` workers when the product is large and we are not already inside
/// a parallel region; serially otherwise.
func packedGemm(_ m: Int, _ n: Int, _ k: Int,
                _ a: UnsafePointer<Float>, _ la: MatLayout,
                _ b: UnsafePointer<Float>, _ lb: MatLayout,
                _ c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0,
                bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, ldr: Int = 0,
                gelu: Bool = false, parallel: Bool = true) {
    precondition(CPUFeatures.avx2FMA, "packedGemm needs AVX2 + FMA")
    if m <= 0 || n <= 0 { return }
    let ta: Int32 = la.trans ? 1 : 0, tb: Int32 = lb.trans ? 1 : 0
    let g: Int32 = gelu ? 1 : 0
    let parts = parallel && !Parallel.inParallelRegion && m * n * max(k, 1) >= packedGemmParallelWork
        ? packedGemmParts(m, n, threads: Parallel.threads) : 1
    if parts <= 1 {
        ramk_sgemm(ta, tb, m, n, k, alpha, a, la.ld, b, lb.ld, beta, c, ldc, bias, residual, ldr, g)
        return
    }
    // One part per worker, split along the larger of m and n (`ramk_sgemm_part`); every part
    // packs the whole of the other operand. (Measured on the shared 2-core VM: 4 parts per
    // worker handed out dynamically, to absorb a core taken by another process, cost 2-4 % more
    // CPU time and did not lower the model's wall time.)
    Parallel.forChunks(parts, costPerItem: 1 << 20) { r in
        for p in r {
            ramk_sgemm_part(ta, tb, m, n, k, alpha, a, la.ld, b, lb.ld, beta, c, ldc,
                            bias, residual, ldr, g, Int32(p), Int32(parts))
        }
    }
}

/// Number of independent parts for an m×n product on `threads` workers: one per worker, fewer
/// when C has fewer 6×16 tiles than workers.
func packedGemmParts(_ m: Int, _ n: Int, threads: Int) -> Int {
    max(1, min(threads, (m + 5) / 6 * ((n + 15) / 16)))
}

/// A linear layer's weight `[out, in]` packed once into the packed GEMM's B panels (CKernels
/// `ramk_sgemm_pack_b_columns`, on all workers), for inference: the GEMM then reads the panels
/// instead of packing the weight at every product (RAM++ Swin-L/384: an estimated 0–4 % less
/// time per image, see docs/tagging.md). The panels take `in · ⌈out/16⌉·16` floats, as many as the weight when `out`
/// is a multiple of 16, so a model whose weights are replaced by their packed form does not
/// grow (`Linear.packForInference`). Results are bit-identical to `linear(_:weight:bias:)`
/// wherever that uses the packed GEMM (6 rows or more); with fewer rows it uses OpenBLAS, whose
/// sums are ordered differently.
public final class PackedWeight: @unchecked Sendable {
    /// `in` and `out` of the weight `[out, in]`.
    public let inFeatures: Int, outFeatures: Int
    let storage: TensorStorage

    /// Packs `weight` `[out, in]` (any strides with one unit-stride axis). Returns nil when the
    /// packed GEMM cannot run it: no AVX2 + FMA, fewer than 16 outputs (OpenBLAS does those),
    /// or a layout BLAS cannot take.
    public init?(packing weight: Tensor) {
        guard CPUFeatures.avx2FMA, weight.rank == 2, weight.shape[0] >= 16, weight.shape[1] >= 1,
              let lw = matLayout(rows: weight.shape[1], cols: weight.shape[0], rs: weight.strides[1], cs: weight.strides[0])
        else { return nil }
        let outF = weight.shape[0], inF = weight.shape[1]
        inFeatures = inF
        outFeatures = outF
        storage = TensorStorage(count: ramk_sgemm_packed_b_count(inF, outF))
        // Column ranges of whole panels, one per worker (a transposing copy: worth two cores
        // for the large weights).
        let panels = (outF + 15) / 16, dst = storage.pointer, tb: Int32 = lw.trans ? 1 : 0
        withExtendedLifetime(weight) {
            let src = UnsafePointer(weight.ptr)
            Parallel.forChunks(panels, costPerItem: 16 * inF) { r in
                ramk_sgemm_pack_b_columns(tb, src, lw.ld, inF, outF, r.lowerBound * 16, r.upperBound * 16, dst)
            }
        }
    }
}

/// `x·Wᵀ + b`, then the exact GELU when `gelu`, then `+ residual` when given, with W packed
/// (`PackedWeight`): x `[..., in]`, bias `[out]` or nil, residual `[..., out]` or nil →
/// `[..., out]`. Inference only: traps when x, bias or residual requires a gradient (a packed
/// weight has no gradient), or on mismatched shapes.
public func linear(_ x: Tensor, packed w: PackedWeight, bias: Tensor?, adding residual: Tensor? = nil,
                   gelu: Bool = false) -> Tensor {
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == w.inFeatures,
                 "linear(packed:): x \(x.shape) for a packed weight [\(w.outFeatures), \(w.inFeatures)]")
    precondition(!needsGrad(x) && !(bias.map { needsGrad($0) } ?? false) && !(residual.map { needsGrad($0) } ?? false),
                 "linear(packed:): a packed weight is for inference; record gradients with the unpacked weight")
    precondition(!(gelu && residual != nil), "linear(packed:): gelu with a residual is not supported")
    let outF = w.outFeatures, inF = w.inFeatures
    let rowsShape = Array(x.shape.dropLast())
    if let b = bias { precondition(b.shape == [outF], "linear(packed:): bias \(b.shape) for \(outF) outputs") }
    if let r = residual { precondition(r.shape == rowsShape + [outF], "linear(packed:): residual \(r.shape), expected \(rowsShape + [outF])") }
    let M = shapeCount(rowsShape)
    var xc = x
    var rs = mergedStride(x, upTo: x.rank - 1)
    if x.strides[x.rank - 1] != 1 && inF > 1 { rs = nil }
    if rs == nil || (rs! < inF && M > 1) { xc = x.contiguous(); rs = inF }
    let out = Tensor(uninitialized: rowsShape + [outF])
    if M == 0 { return out }
    let bc = bias?.contiguous(), rc = residual?.contiguous()
    let o = out.storage.pointer, ld = max(rs!, inF, 1), g: Int32 = gelu ? 1 : 0
    let parts = !Parallel.inParallelRegion && M * outF * max(inF, 1) >= packedGemmParallelWork
        ? packedGemmParts(M, outF, threads: Parallel.threads) : 1
    withExtendedLifetime((xc, bc, rc, w)) {
        let xp = UnsafePointer(xc.ptr), bp = UnsafePointer(w.storage.pointer)
        let biasP = bc.map { UnsafePointer($0.ptr) }, resP = rc.map { UnsafePointer($0.ptr) }
        if parts <= 1 {
            ramk_sgemm_part_packed_b(0, M, outF, inF, 1, xp, ld, bp, 0, o, outF, biasP, resP, outF, g, 0, 1)
        } else {
            Parallel.forChunks(parts, costPerItem: 1 << 20) { r in
                for p in r {
                    ramk_sgemm_part_packed_b(0, M, outF, inF, 1, xp, ld, bp, 0, o, outF, biasP, resP, outF, g,
                                             Int32(p), Int32(parts))
                }
            }
        }
    }
    return out
}
