/// A register-blocked GEMM for the small per-(batch, head) products of attention, where a
/// BLAS call's fixed costs (argument checks, packing, dispatch) are a large part of the work:
/// C[M×N] = A[M×K] · B[K×N], all row-major with unit inner stride (leading dimensions lda, ldb,
/// ldc), C overwritten. Tiles of 4 rows × 16 columns keep 8 accumulators of 8 lanes in
/// registers; each step loads two vectors of B and broadcasts four scalars of A (8 FMAs).
/// Edges: 4×8 tiles, then single rows, then scalar columns.

typealias V8 = SIMD8<Float>

@inline(__always) private func ld(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
@inline(__always) private func st(_ p: UnsafeMutablePointer<Float>, _ v: V8) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
}

func smallGemm(_ M: Int, _ N: Int, _ K: Int,
               _ a: UnsafePointer<Float>, _ lda: Int,
               _ b: UnsafePointer<Float>, _ ldb: Int,
               _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    var j = 0
    // 16-column panels.
    while j + 16 <= N {
        var i = 0
        while i + 4 <= M {
            var c00 = V8(), c01 = V8(), c10 = V8(), c11 = V8(), c20 = V8(), c21 = V8(), c30 = V8(), c31 = V8()
            let a0p = a + i * lda, a1p = a0p + lda, a2p = a1p + lda, a3p = a2p + lda
            var bp = b + j
            for k in 0..<K {
                let b0 = ld(bp), b1 = ld(bp + 8)
                let a0 = V8(repeating: a0p[k]), a1 = V8(repeating: a1p[k])
                let a2 = V8(repeating: a2p[k]), a3 = V8(repeating: a3p[k])
                c00.addProduct(a0, b0); c01.addProduct(a0, b1)
                c10.addProduct(a1, b0); c11.addProduct(a1, b1)
                c20.addProduct(a2, b0); c21.addProduct(a2, b1)
                c30.addProduct(a3, b0); c31.addProduct(a3, b1)
                bp += ldb
            }
            let cp = c + i * ldc + j
            st(cp, c00); st(cp + 8, c01)
            st(cp + ldc, c10); st(cp + ldc + 8, c11)
            st(cp + 2 * ldc, c20); st(cp + 2 * ldc + 8, c21)
            st(cp + 3 * ldc, c30); st(cp + 3 * ldc + 8, c31)
            i += 4
        }
        while i < M {
            var c0 = V8(), c1 = V8()
            let ap = a + i * lda
            var bp = b + j
            for k in 0..<K {
                let av = V8(repeating: ap[k])
                c0.addProduct(av, ld(bp)); c1.addProduct(av, ld(bp + 8))
                bp += ldb
            }
            st(c + i * ldc + j, c0); st(c + i * ldc + j + 8, c1)
            i += 1
        }
        j += 16
    }
    // An 8-column panel.
    if j + 8 <= N {
        var i = 0
        while i + 4 <= M {
            var c0 = V8(), c1 = V8(), c2 = V8(), c3 = V8()
            let a0p = a + i * lda, a1p = a0p + lda, a2p = a1p + lda, a3p = a2p + lda
            var bp = b + j
            for k in 0..<K {
                let bv = ld(bp)
                c0.addProduct(V8(repeating: a0p[k]), bv); c1.addProduct(V8(repeating: a1p[k]), bv)
                c2.addProduct(V8(repeating: a2p[k]), bv); c3.addProduct(V8(repeating: a3p[k]), bv)
                bp += ldb
            }
            let cp = c + i * ldc + j
            st(cp, c0); st(cp + ldc, c1); st(cp + 2 * ldc, c2); st(cp + 3 * ldc, c3)
            i += 4
        }
        while i < M {
            var c0 = V8()
            let ap = a + i * lda
            var bp = b + j
            for k in 0..<K { c0.addProduct(V8(repeating: ap[k]), ld(bp)); bp += ldb }
            st(c + i * ldc + j, c0)
            i += 1
        }
        j += 8
    }
    // Remaining columns.
    if j < N {
        for i in 0..<M {
            let ap = a + i * lda
            for jj in j..<N {
                var s: Float = 0
                for k in 0..<K { s += ap[k] * b[k * ldb + jj] }
                c[i * ldc + jj] = s
            }
        }
    }
}
