/// A register-blocked GEMM for the small per-(batch, head) products of attention, where a
/// BLAS call's fixed costs (argument checks, packing, dispatch) are a large part of the work:
/// C[M×N] = A[M×K] · B[K×N], all row-major with unit inner stride (leading dimensions lda, ldb,
/// ldc), C overwritten. Tiles of 6 rows × 16 columns keep 12 accumulators of 8 lanes in
/// registers (of AVX2's 16); each step loads two vectors of B and broadcasts six scalars of A
/// (12 FMAs). Edges: single rows, 4×8 tiles, then scalar columns.

typealias V8 = SIMD8<Float>

@inline(__always) private func ld(_ p: UnsafePointer<Float>) -> V8 { UnsafeRawPointer(p).loadUnaligned(as: V8.self) }
@inline(__always) private func st(_ p: UnsafeMutablePointer<Float>, _ v: V8) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
}

/// What is done to each result element as it leaves the registers: `alpha · acc + add1 + add2`
/// (attention: the scale, the relative position bias and the window mask, in one pass), the
/// addends being M×N row-major with leading dimension `ldAdd` (nil: absent).
struct GemmEpilogue {
    var alpha: Float = 1
    var add1: UnsafePointer<Float>? = nil
    var add2: UnsafePointer<Float>? = nil
    var ldAdd: Int = 0

    @inline(__always) func v(_ acc: V8, _ i: Int, _ j: Int) -> V8 {
        var r = alpha == 1 ? acc : acc * alpha
        if let p = add1 { r += ld(p + i * ldAdd + j) }
        if let p = add2 { r += ld(p + i * ldAdd + j) }
        return r
    }
    @inline(__always) func s(_ acc: Float, _ i: Int, _ j: Int) -> Float {
        var r = acc * alpha
        if let p = add1 { r += p[i * ldAdd + j] }
        if let p = add2 { r += p[i * ldAdd + j] }
        return r
    }
}

func smallGemm(_ M: Int, _ N: Int, _ K: Int,
               _ a: UnsafePointer<Float>, _ lda: Int,
               _ b: UnsafePointer<Float>, _ ldb: Int,
               _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ e: GemmEpilogue = GemmEpilogue()) {
    var j = 0
    // 16-column panels.
    while j + 16 <= N {
        var i = 0
        while i + 6 <= M {
            var c00 = V8(), c01 = V8(), c10 = V8(), c11 = V8(), c20 = V8(), c21 = V8()
            var c30 = V8(), c31 = V8(), c40 = V8(), c41 = V8(), c50 = V8(), c51 = V8()
            let ap = a + i * lda
            var bp = b + j
            for k in 0..<K {
                let b0 = ld(bp), b1 = ld(bp + 8)
                var av = V8(repeating: ap[k]); c00.addProduct(av, b0); c01.addProduct(av, b1)
                av = V8(repeating: ap[lda + k]); c10.addProduct(av, b0); c11.addProduct(av, b1)
                av = V8(repeating: ap[2 * lda + k]); c20.addProduct(av, b0); c21.addProduct(av, b1)
                av = V8(repeating: ap[3 * lda + k]); c30.addProduct(av, b0); c31.addProduct(av, b1)
                av = V8(repeating: ap[4 * lda + k]); c40.addProduct(av, b0); c41.addProduct(av, b1)
                av = V8(repeating: ap[5 * lda + k]); c50.addProduct(av, b0); c51.addProduct(av, b1)
                bp += ldb
            }
            let cp = c + i * ldc + j
            st(cp, e.v(c00, i, j)); st(cp + 8, e.v(c01, i, j + 8))
            st(cp + ldc, e.v(c10, i + 1, j)); st(cp + ldc + 8, e.v(c11, i + 1, j + 8))
            st(cp + 2 * ldc, e.v(c20, i + 2, j)); st(cp + 2 * ldc + 8, e.v(c21, i + 2, j + 8))
            st(cp + 3 * ldc, e.v(c30, i + 3, j)); st(cp + 3 * ldc + 8, e.v(c31, i + 3, j + 8))
            st(cp + 4 * ldc, e.v(c40, i + 4, j)); st(cp + 4 * ldc + 8, e.v(c41, i + 4, j + 8))
            st(cp + 5 * ldc, e.v(c50, i + 5, j)); st(cp + 5 * ldc + 8, e.v(c51, i + 5, j + 8))
            i += 6
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
            st(c + i * ldc + j, e.v(c0, i, j)); st(c + i * ldc + j + 8, e.v(c1, i, j + 8))
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
            st(cp, e.v(c0, i, j)); st(cp + ldc, e.v(c1, i + 1, j)); st(cp + 2 * ldc, e.v(c2, i + 2, j)); st(cp + 3 * ldc, e.v(c3, i + 3, j))
            i += 4
        }
        while i < M {
            var c0 = V8()
            let ap = a + i * lda
            var bp = b + j
            for k in 0..<K { c0.addProduct(V8(repeating: ap[k]), ld(bp)); bp += ldb }
            st(c + i * ldc + j, e.v(c0, i, j))
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
                c[i * ldc + jj] = e.s(s, i, jj)
            }
        }
    }
}
