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

/// What is done to each result element as it leaves the registers (specialised at compile
/// time, so the store path has no branches). Attention uses it for the scale, the relative
/// position bias and the window mask, saving a pass over the scores.
protocol GemmEpilogue {
    func v(_ acc: V8, _ i: Int, _ j: Int) -> V8
    func s(_ acc: Float, _ i: Int, _ j: Int) -> Float
}
/// C = A·B.
struct PlainEpilogue: GemmEpilogue {
    @inline(__always) func v(_ acc: V8, _ i: Int, _ j: Int) -> V8 { acc }
    @inline(__always) func s(_ acc: Float, _ i: Int, _ j: Int) -> Float { acc }
}
/// C = alpha·A·B.
struct ScaleEpilogue: GemmEpilogue {
    let alpha: Float
    @inline(__always) func v(_ acc: V8, _ i: Int, _ j: Int) -> V8 { acc * alpha }
    @inline(__always) func s(_ acc: Float, _ i: Int, _ j: Int) -> Float { acc * alpha }
}
/// C = alpha·A·B + X (X row-major M×N, leading dimension ldx).
struct ScaleAddEpilogue: GemmEpilogue {
    let alpha: Float, x: UnsafePointer<Float>, ldx: Int
    @inline(__always) func v(_ acc: V8, _ i: Int, _ j: Int) -> V8 { acc * alpha + ld(x + i * ldx + j) }
    @inline(__always) func s(_ acc: Float, _ i: Int, _ j: Int) -> Float { acc * alpha + x[i * ldx + j] }
}
/// C = alpha·A·B + X + Y (both M×N, leading dimension ldx).
struct ScaleAdd2Epilogue: GemmEpilogue {
    let alpha: Float, x: UnsafePointer<Float>, y: UnsafePointer<Float>, ldx: Int
    @inline(__always) func v(_ acc: V8, _ i: Int, _ j: Int) -> V8 {
        acc * alpha + (ld(x + i * ldx + j) + ld(y + i * ldx + j))
    }
    @inline(__always) func s(_ acc: Float, _ i: Int, _ j: Int) -> Float { acc * alpha + (x[i * ldx + j] + y[i * ldx + j]) }
}

func smallGemm<E: GemmEpilogue>(_ M: Int, _ N: Int, _ K: Int,
                                _ a: UnsafePointer<Float>, _ lda: Int,
                                _ b: UnsafePointer<Float>, _ ldb: Int,
                                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ e: E) {
    var j = 0
    // 16-column panels.
    while j + 16 <= N {
        var i = 0
        while i + 6 <= M {
            var c00 = V8(), c01 = V8(), c10 = V8(), c11 = V8(), c20 = V8(), c21 = V8()
            var c30 = V8(), c31 = V8(), c40 = V8(), c41 = V8(), c50 = V8(), c51 = V8()
            // Six row pointers indexed by k (not offsets from one pointer: that compiles to a
            // serial chain of address additions, ~25 % slower).
            let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda
            var bp = b + j
            for k in 0..<K {
                let b0 = ld(bp), b1 = ld(bp + 8)
                var av = V8(repeating: a0[k]); c00.addProduct(av, b0); c01.addProduct(av, b1)
                av = V8(repeating: a1[k]); c10.addProduct(av, b0); c11.addProduct(av, b1)
                av = V8(repeating: a2[k]); c20.addProduct(av, b0); c21.addProduct(av, b1)
                av = V8(repeating: a3[k]); c30.addProduct(av, b0); c31.addProduct(av, b1)
                av = V8(repeating: a4[k]); c40.addProduct(av, b0); c41.addProduct(av, b1)
                av = V8(repeating: a5[k]); c50.addProduct(av, b0); c51.addProduct(av, b1)
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
