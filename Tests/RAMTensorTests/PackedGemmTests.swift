import CKernels
import Foundation
import XCTest
@testable import RAMTensor

/// The packed AVX2 SGEMM (CKernels `ramk_sgemm`) against a double-precision reference: edge
/// sizes around the 6×16 micro-tile, both transposes, alpha/beta, leading dimensions wider
/// than the matrices, the fused epilogue (bias, GELU, residual) and the two-worker split.
final class PackedGemmTests: XCTestCase {
    /// Deterministic values in [-1, 1).
    struct Rand {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
    }

    struct Case {
        var m, n, k: Int
        var ta = false, tb = false
        var alpha: Float = 1, beta: Float = 0
        var bias = false, gelu = false, residual = false
    }

    static func geluRef(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    /// Runs one case with `run` (which computes C in place) and checks every element of C,
    /// and that the padding columns of C (ldc > n) are untouched. Returns false on failure.
    @discardableResult
    func check(_ cs: Case, seed: UInt64,
               _ run: (_ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ bias: UnsafePointer<Float>?,
                       _ res: UnsafePointer<Float>?, _ ldr: Int) -> Void,
               file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let (m, n, k) = (cs.m, cs.n, cs.k)
        var rng = Rand(s: seed)
        // stored shapes: A is m×k (or k×m), B is k×n (or n×k), each with 3 extra columns
        let aRows = cs.ta ? k : m, aCols = cs.ta ? m : k, lda = aCols + 3
        let bRows = cs.tb ? n : k, bCols = cs.tb ? k : n, ldb = bCols + 2
        let ldc = n + 5, ldr = n + 1
        let a = (0..<max(1, aRows * lda)).map { _ in rng.next() }
        let b = (0..<max(1, bRows * ldb)).map { _ in rng.next() }
        let bias = (0..<max(1, n)).map { _ in rng.next() }
        let res = (0..<max(1, m * ldr)).map { _ in rng.next() }
        let sentinel: Float = 12345
        var c = [Float](repeating: sentinel, count: max(1, m * ldc))
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = cs.beta == 0 ? .nan : rng.next() } }
        let c0 = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasp in
                    res.withUnsafeBufferPointer { rp in
                        c.withUnsafeMutableBufferPointer { cp in
                            run(ap.baseAddress!, lda, bp.baseAddress!, ldb, cp.baseAddress!, ldc,
                                cs.bias ? biasp.baseAddress! : nil, cs.residual ? rp.baseAddress! : nil, ldr)
                        }
                    }
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0, mag = 0.0
                for p in 0..<k {
                    let x = Double(cs.ta ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(cs.tb ? b[j * ldb + p] : b[p * ldb + j])
                    s += x * y; mag += abs(x * y)
                }
                var t = Double(cs.alpha) * s
                mag *= Double(abs(cs.alpha))
                if cs.beta != 0 { t += Double(cs.beta) * Double(c0[i * ldc + j]); mag += abs(Double(cs.beta) * Double(c0[i * ldc + j])) }
                if cs.bias { t += Double(bias[j]); mag += abs(Double(bias[j])) }
                if cs.gelu { t = Self.geluRef(t) }
                if cs.residual { t += Double(res[i * ldr + j]); mag += abs(Double(res[i * ldr + j])) }
                let got = Double(c[i * ldc + j])
                if !(abs(got - t) <= 1e-5 * mag + 1e-6) {
                    XCTFail("\(cs) element (\(i), \(j)): \(got) vs \(t)", file: file, line: line)
                    return false
                }
            }
            for j in n..<ldc where c[i * ldc + j] != sentinel {
                XCTFail("\(cs): padding (\(i), \(j)) of C was written", file: file, line: line)
                return false
            }
        }
        return true
    }

    /// The serial kernel on every m, n, k in {1, 5, 6, 7, 15, 16, 17, 100} (k also 300: two K
    /// slices), all four transpose combinations, alpha/beta, lda/ldb/ldc wider than the matrices.
    func testSerialEdgeShapesAllTransposes() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let sizes = [1, 5, 6, 7, 15, 16, 17, 100]
        var seed: UInt64 = 1
        for ta in [false, true] { for tb in [false, true] {
            for m in sizes { for n in sizes { for k in sizes + [300] {
                seed += 1
                let alpha: Float = seed % 3 == 0 ? 1 : -1.5
                let beta: Float = seed % 2 == 0 ? 0 : 0.75
                let cs = Case(m: m, n: n, k: k, ta: ta, tb: tb, alpha: alpha, beta: beta)
                let ok = check(cs, seed: seed) { a, lda, b, ldb, c, ldc, _, _, _ in
                    ramk_sgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, nil, 0, 0)
                }
                if !ok { return }
            } } }
        } }
    }

    /// Larger blocks: several MC row blocks (m = 300), K slices (k = 300, 600), and more than one
    /// NC column block (n = 3100), with edges.
    func testSerialLargeBlocks() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let cases = [Case(m: 300, n: 300, k: 300), Case(m: 300, n: 17, k: 600, ta: true, beta: 1),
                     Case(m: 7, n: 3100, k: 5, tb: true, alpha: 2, beta: 0.5, bias: true),
                     Case(m: 17, n: 3100, k: 300, tb: true, bias: true, residual: true),
                     Case(m: 300, n: 100, k: 300, ta: true, tb: true, alpha: 0.5, beta: -1)]
        for (i, cs) in cases.enumerated() {
            check(cs, seed: UInt64(100 + i)) { a, lda, b, ldb, c, ldc, bias, res, ldr in
                ramk_sgemm(cs.ta ? 1 : 0, cs.tb ? 1 : 0, cs.m, cs.n, cs.k, cs.alpha, a, lda, b, ldb, cs.beta,
                           c, ldc, bias, res, ldr, cs.gelu ? 1 : 0)
            }
        }
    }

    /// Every epilogue combination (bias, GELU, residual) with alpha/beta, on edge shapes.
    func testEpilogues() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        var seed: UInt64 = 500
        for (m, n, k) in [(1, 1, 1), (5, 17, 7), (6, 16, 16), (7, 15, 300), (100, 33, 17)] {
            for bias in [false, true] { for gelu in [false, true] { for residual in [false, true] {
                for (alpha, beta) in [(Float(1), Float(0)), (Float(0.5), Float(1))] {
                    seed += 1
                    let cs = Case(m: m, n: n, k: k, tb: true, alpha: alpha, beta: beta,
                                  bias: bias, gelu: gelu, residual: residual)
                    let ok = check(cs, seed: seed) { a, lda, b, ldb, c, ldc, bp, rp, ldr in
                        ramk_sgemm(0, 1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bp, rp, ldr, gelu ? 1 : 0)
                    }
                    if !ok { return }
                }
            } } }
        }
    }

    /// The parts of `ramk_sgemm_part` (2 and 3 parts; split along M and along N) cover C exactly
    /// once, with the epilogue offsets right in both splits.
    func testPartsCoverTheProduct() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let cases = [Case(m: 100, n: 17, k: 15, bias: true, residual: true),               // split M
                     Case(m: 17, n: 100, k: 15, tb: true, bias: true, residual: true),     // split N
                     Case(m: 7, n: 300, k: 16, ta: true, tb: true, beta: 1, bias: true, gelu: true),
                     Case(m: 5, n: 5, k: 5, beta: 0.5)]                                    // fewer units than parts
        var seed: UInt64 = 900
        for cs in cases { for parts in [2, 3] {
            seed += 1
            check(cs, seed: seed) { a, lda, b, ldb, c, ldc, bp, rp, ldr in
                for p in (0..<parts).reversed() {
                    ramk_sgemm_part(cs.ta ? 1 : 0, cs.tb ? 1 : 0, cs.m, cs.n, cs.k, cs.alpha, a, lda, b, ldb, cs.beta,
                                    c, ldc, bp, rp, ldr, cs.gelu ? 1 : 0, Int32(p), Int32(parts))
                }
            }
        } }
    }

    /// The epilogue's GELU gives the same values as RAMTensor's `gelu` (same erf approximation).
    func testFusedGELUMatchesElementwiseGELU() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        var xs: [Float] = (0..<20001).map { Float($0 - 10000) / 1000 }   // [-10, 10]
        xs += [0, -0.0, 1e-30, -1e-30, 3.9999, 4.0001, -5.657, 5.657, 100, -100]
        let expected = xs.map { fgelu($0) }
        var got = xs
        got.withUnsafeMutableBufferPointer { ramk_gelu_inplace($0.baseAddress!, $0.count) }
        for i in xs.indices {
            XCTAssertLessThanOrEqual(abs(got[i] - expected[i]), 1e-6 * max(1, abs(expected[i])), "x = \(xs[i])")
        }
    }

    /// The part count (one per worker, at most one per tile), and a product split into parts
    /// through `packedGemm` (two workers) equals the double reference.
    func testPartCountsAndParallelParts() throws {
        XCTAssertEqual(packedGemmParts(9216, 576, threads: 2), 2)
        XCTAssertEqual(packedGemmParts(9216, 576, threads: 1), 1)
        XCTAssertEqual(packedGemmParts(6, 16, threads: 2), 1)
        XCTAssertEqual(packedGemmParts(7, 16, threads: 4), 2)
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let M = 2400, N = 40, K = 64
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let cs = Case(m: M, n: N, k: K, tb: true, alpha: 1, beta: 0, bias: true, residual: true)
        check(cs, seed: 77) { a, lda, b, ldb, c, ldc, bp, rp, ldr in
            packedGemm(M, N, K, a, MatLayout(trans: false, ld: lda), b, MatLayout(trans: true, ld: ldb), c, ldc: ldc,
                       bias: bp, residual: rp, ldr: ldr)
        }
    }

    /// A row of a linear layer's output does not depend on how many rows the product has or on
    /// the thread count, so `ram infer` prints the same scores at any `Infer.batch_size` and
    /// `RAMKIT_NUM_THREADS`. The ViT fixture's 197×64·64×64 attention projection (under the old
    /// 2^20 multiply-add minimum) went to OpenBLAS at batch 1 and to the packed GEMM at batch 3,
    /// and OpenBLAS's sums change with its thread count: printed scores moved by 1e-5.
    func testLinearRowsDoNotDependOnBatchOrThreads() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        let N = 197, C = 64
        let x3 = Tensor.randn([3 * N, C], seed: 31), w = Tensor.randn([C, C], std: 0.1, seed: 32)
        let b = Tensor.randn([C], seed: 33)
        let x1 = Tensor(shape: [N, C], scalars: Array(x3.scalars[0..<(N * C)]))
        withNoGrad {
            var outs: [String: [Float]] = [:]
            for t in [2, 1] {
                Parallel.threads = t
                outs["linear, batch 1, \(t) threads"] = linear(x1, weight: w, bias: b).scalars
                outs["linear, batch 3, \(t) threads"] = Array(linear(x3, weight: w, bias: b).scalars[0..<(N * C)])
                outs["matmul, batch 1, \(t) threads"] = matmul(x1, w, transposeB: true).scalars
                outs["matmul, batch 3, \(t) threads"] = Array(matmul(x3, w, transposeB: true).scalars[0..<(N * C)])
            }
            for op in ["linear", "matmul"] {
                let ref = outs["\(op), batch 1, 2 threads"]!
                for (name, y) in outs where name.hasPrefix(op) {
                    let differing = zip(ref, y).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(name): \(differing) of \(ref.count) values differ from batch 1, 2 threads")
                }
            }
        }
    }

    /// The routed entry points (`linear`, `linearGELU`, `linear(adding:)`, `matmul`), large enough
    /// to take the packed GEMM and to be split over two workers, against a double reference.
    func testRoutedLinearAndMatmul() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA")
        let M = 301, K = 130, N = 131   // M·N·K ≈ 5.1 M: packed and parallel
        XCTAssertTrue(usePackedGemm(M, N, K))
        let x = Tensor.randn([M, K], seed: 11), w = Tensor.randn([N, K], std: 0.1, seed: 12)
        let b = Tensor.randn([N], seed: 13), r = Tensor.randn([M, N], seed: 14)
        let xs = x.scalars, ws = w.scalars, bs = b.scalars, rs = r.scalars
        var pre = [Double](repeating: 0, count: M * N)
        for i in 0..<M { for j in 0..<N {
            var s = 0.0
            for p in 0..<K { s += Double(xs[i * K + p]) * Double(ws[j * K + p]) }
            pre[i * N + j] = s
        } }
        withNoGrad {
            let y = linear(x, weight: w, bias: b).scalars
            let yg = linearGELU(x, weight: w, bias: b).scalars
            let yr = linear(x, weight: w, bias: b, adding: r).scalars
            let yn = linear(x, weight: w, bias: nil).scalars
            let mm = matmul(x, w, transposeB: true).scalars
            for e in 0..<(M * N) {
                let t = pre[e] + Double(bs[e % N])
                XCTAssertEqual(Double(y[e]), t, accuracy: 1e-4)
                XCTAssertEqual(Double(yg[e]), Self.geluRef(t), accuracy: 1e-4)
                XCTAssertEqual(Double(yr[e]), t + Double(rs[e]), accuracy: 1e-4)
                XCTAssertEqual(Double(yn[e]), pre[e], accuracy: 1e-4)
                XCTAssertEqual(Double(mm[e]), pre[e], accuracy: 1e-4)
                if abs(Double(y[e]) - t) > 1e-4 { return }
            }
        }
    }
}
