import CKernels
import Foundation
import XCTest
import RAMNN
@testable import RAMTensor

/// Weights packed once for inference (`PackedWeight`, `linear(_:packed:...)`,
/// `Linear.packForInference`, `Module.packLinearLayersForInference`): bit-identical to the
/// unpacked linear wherever that runs on the packed GEMM (6 rows or more), for every epilogue,
/// K split into several slices, both two-worker splits and a transposed weight view; checked
/// against a double-precision reference too, so that a fault shared by both paths would show.
final class PackedWeightTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var r = PackedGemmTests.Rand(s: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in r.next() })
    }

    /// x·Wᵀ + b in double precision for row i, column j (x [M, in], w [out, in]).
    func reference(_ x: [Float], _ w: [Float], _ b: [Float]?, inF: Int, i: Int, j: Int) -> Double {
        var s = 0.0
        for p in 0..<inF { s += Double(x[i * inF + p]) * Double(w[j * inF + p]) }
        return s + (b.map { Double($0[j]) } ?? 0)
    }

    func testPackedLinearMatchesUnpackedBitForBit() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA (the packed GEMM)")
        // (rows, in, out): a single row, edges around 6×16, K in several KC slices (300 → 150 +
        // 150, 513 → 3 × 171, 520 → 174 + 174 + 172: a shorter last slice), the M split (2000
        // rows) and the N split (40 rows × 3000 outputs, also over several K slices and NC
        // blocks, with out not a multiple of 16) when there are two workers.
        let shapes = [(1, 3, 16), (5, 37, 40), (7, 300, 100), (13, 520, 40), (130, 513, 48), (2000, 768, 64),
                      (40, 256, 3000), (40, 520, 3000)]
        for (n, (m, inF, outF)) in shapes.enumerated() {
            let seed = UInt64(n) * 10
            let x = random([m, inF], seed: seed + 1), w = random([outF, inF], seed: seed + 2)
            let b = random([outF], seed: seed + 3), res = random([m, outF], seed: seed + 4)
            let p = try XCTUnwrap(PackedWeight(packing: w))
            XCTAssertEqual(p.storage.count, inF * ((outF + 15) / 16 * 16))
            // Fewer than 6 rows: the unpacked linear hands the product to OpenBLAS (another
            // summation order), so the two agree to rounding only.
            func same(_ a: Tensor, _ b: Tensor, _ what: String) {
                if m >= 6 { XCTAssertEqual(a.scalars, b.scalars, what); return }
                XCTAssertEqual(a.shape, b.shape, what)
                for (u, v) in zip(a.scalars, b.scalars) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), what) }
            }
            withNoGrad {
                same(linear(x, packed: p, bias: b), linear(x, weight: w, bias: b), "bias \(m)×\(inF)→\(outF)")
                same(linear(x, packed: p, bias: nil), linear(x, weight: w, bias: nil), "no bias \(m)×\(inF)→\(outF)")
                same(linear(x, packed: p, bias: b, gelu: true), linearGELU(x, weight: w, bias: b), "gelu \(m)×\(inF)→\(outF)")
                same(linear(x, packed: p, bias: b, adding: res), linear(x, weight: w, bias: b, adding: res),
                     "residual \(m)×\(inF)→\(outF)")
                // A few entries against double precision.
                let y = linear(x, packed: p, bias: b).scalars
                let xs = x.scalars, ws = w.scalars, bs = b.scalars
                for (i, j) in [(0, 0), (m - 1, outF - 1), (m / 2, outF / 3)] {
                    let want = reference(xs, ws, bs, inF: inF, i: i, j: j)
                    XCTAssertEqual(Double(y[i * outF + j]), want, accuracy: 1e-5 * Double(inF).squareRoot() + 1e-6,
                                   "\(m)×\(inF)→\(outF) at (\(i), \(j))")
                }
            }
        }
    }

    /// `ramk_sgemm_part_packed_b` split into 1, 2 and 3 parts (whatever the thread count), along
    /// M and along N: every part together gives the unsplit packed-B product, bit for bit.
    func testPartsOfThePackedProductCoverIt() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA (the packed GEMM)")
        for (m, k, n) in [(50, 520, 40), (12, 300, 1100)] {   // m ≥ n: M split; m < n: N split
            let a = random([m, k], seed: 61).scalars, w = random([n, k], seed: 62).scalars
            let bias = random([n], seed: 63).scalars
            let packed = UnsafeMutablePointer<Float>.allocate(capacity: ramk_sgemm_packed_b_count(k, n) + 16)
            defer { packed.deallocate() }
            let aligned = UnsafeMutablePointer<Float>(bitPattern: (Int(bitPattern: packed) + 63) & ~63)!
            w.withUnsafeBufferPointer { ramk_sgemm_pack_b(1, $0.baseAddress, k, k, n, aligned) }
            func run(_ parts: Int32) -> [Float] {
                var c = [Float](repeating: .nan, count: m * n)
                a.withUnsafeBufferPointer { ap in
                    bias.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            for part in 0..<parts {
                                ramk_sgemm_part_packed_b(0, m, n, k, 1, ap.baseAddress, k, aligned, 0, cp.baseAddress, n,
                                                         bp.baseAddress, nil, 0, 0, part, parts)
                            }
                        }
                    }
                }
                return c
            }
            let whole = run(1)
            XCTAssertFalse(whole.contains { $0.isNaN }, "\(m)×\(k)×\(n): an element was not written")
            XCTAssertEqual(run(2), whole, "\(m)×\(k)×\(n) in 2 parts")
            XCTAssertEqual(run(3), whole, "\(m)×\(k)×\(n) in 3 parts")
            // And the same as packing B at every product.
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { ap in
                w.withUnsafeBufferPointer { wp in
                    bias.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            ramk_sgemm_part(0, 1, m, n, k, 1, ap.baseAddress, k, wp.baseAddress, k, 0, cp.baseAddress, n,
                                            bp.baseAddress, nil, 0, 0, 0, 1)
                        }
                    }
                }
            }
            XCTAssertEqual(whole, c, "\(m)×\(k)×\(n): packed B once against packing it in the product")
        }
    }

    func testPackedFromTransposedViewAndBatchedRows() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA (the packed GEMM)")
        // A .pdparams Linear weight is stored [in, out]; the model sees its transpose.
        let stored = random([24, 32], seed: 41)            // [in 24, out 32]
        let w = stored.transposed(0, 1)                     // [32, 24] view, not contiguous
        let p = try XCTUnwrap(PackedWeight(packing: w))
        let x = random([2, 7, 24], seed: 42)                // batch axes in front
        let xt = random([24, 9], seed: 43).transposed(0, 1) // rows that are not contiguous
        withNoGrad {
            XCTAssertEqual(linear(x, packed: p, bias: nil).shape, [2, 7, 32])
            XCTAssertEqual(linear(x, packed: p, bias: nil).scalars, linear(x, weight: w, bias: nil).scalars)
            XCTAssertEqual(linear(xt, packed: p, bias: nil).scalars, linear(xt, weight: w, bias: nil).scalars)
        }
    }

    func testNarrowLayersAreNotPacked() {
        XCTAssertNil(PackedWeight(packing: random([15, 8], seed: 5)), "fewer than 16 outputs stay on OpenBLAS")
        XCTAssertNil(PackedWeight(packing: random([768], seed: 5)))
        if CPUFeatures.avx2FMA { XCTAssertNotNil(PackedWeight(packing: random([16, 8], seed: 5))) }
    }

    func testLinearPackForInference() throws {
        try XCTSkipUnless(CPUFeatures.avx2FMA, "needs AVX2 + FMA (the packed GEMM)")
        final class Pair: Module {
            let a = Linear(20, 48, seed: 1)
            let b = Linear(48, 1, seed: 2)      // one output: stays unpacked
            let c: Linear? = Linear(48, 32, bias: false, seed: 3)
        }
        let model = Pair()
        let x = random([11, 20], seed: 7), res = random([11, 48], seed: 8)
        func outputs() -> ([Float], [Float], [Float]) {
            withNoGrad { (model.b(model.a.gelu(x)).scalars, model.a(x, adding: res).scalars, model.c!(model.a(x)).scalars) }
        }
        let before = outputs()
        XCTAssertTrue(model.packedLayerNames.isEmpty)
        XCTAssertEqual(model.packLinearLayersForInference(), 2)
        XCTAssertEqual(model.packedLayerNames.sorted(), ["a", "c"])
        XCTAssertEqual(model.a.weight.value.shape, [0], "the plain weight is dropped")
        XCTAssertEqual(model.b.weight.value.shape, [1, 48])
        XCTAssertFalse(model.a.packForInference(), "packing twice does nothing")
        let after = outputs()
        XCTAssertEqual(after.0, before.0)
        XCTAssertEqual(after.1, before.1)
        XCTAssertEqual(after.2, before.2)
        // With the tape on, an input that records nothing still gets the packed layer's result.
        XCTAssertEqual(model.c!(model.a(x)).scalars, before.2)
    }
}
