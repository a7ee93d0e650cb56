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
