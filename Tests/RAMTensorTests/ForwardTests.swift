import XCTest
import Foundation
@testable import RAMTensor

/// Forward values of every op, against hand-computed numbers (noted inline) or an independent
/// double-precision loop written in the test.
final class ForwardTests: XCTestCase {
    let A = T([2, 3], [1, 2, 3, 4, 5, 6])

    func testViews() {
        XCTAssertEqual(A.transposed(0, 1).scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertFalse(A.transposed(0, 1).isContiguous)
        XCTAssertEqual(A.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(A.transposed(0, 1).reshaped([6]).scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(A.slice(axis: 1, 1..<3).scalars, [2, 3, 5, 6])
        XCTAssertEqual(A.select(axis: 0, 1).scalars, [4, 5, 6])
        XCTAssertEqual(A.unsqueezed(axis: 0).shape, [1, 2, 3])
        XCTAssertEqual(A.unsqueezed(axis: -1).shape, [2, 3, 1])
        XCTAssertEqual(A.unsqueezed(axis: 1).squeezed(axis: 1).scalars, A.scalars)
        let x = T([2, 3, 2], (0..<12).map(Float.init))
        XCTAssertEqual(x.permuted([2, 0, 1]).scalars, [0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11])
        XCTAssertEqual(x[1, 2, 0], 10)
        XCTAssertEqual(A.broadcast(to: [2, 2, 3]).scalars, [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6])
    }

    func testInitializingWith() throws {
        let t = Tensor(shape: [2, 2]) { buf in for i in 0..<buf.count { buf[i] = Float(i * i) } }
        XCTAssertEqual(t.scalars, [0, 1, 4, 9])
        struct Boom: Error {}
        XCTAssertThrowsError(try Tensor(shape: [3]) { _ in throw Boom() })
    }

    func testConcatSplit() {
        let b = T([2, 1], [7, 8])
        XCTAssertEqual(concat([A, b], axis: 1).scalars, [1, 2, 3, 7, 4, 5, 6, 8])
        XCTAssertEqual(concat([A, A], axis: 0).shape, [4, 3])
        let parts = split(A, sizes: [1, 2], axis: 1)
        XCTAssertEqual(parts[0].scalars, [1, 4])
        XCTAssertEqual(parts[1].scalars, [2, 3, 5, 6])
    }

    func testArithmeticBroadcast() {
        XCTAssertEqual((A + T([3], [10, 20, 30])).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((A - T([2, 1], [1, 2])).scalars, [0, 1, 2, 2, 3, 4])
        XCTAssertEqual((A * T([1, 3], [0, 1, 2])).scalars, [0, 2, 6, 0, 5, 12])
        XCTAssertEqual((T([2], [1, 2]) / T([1], [4])).scalars, [0.25, 0.5])
        XCTAssertEqual((A * 2 + 1).scalars, [3, 5, 7, 9, 11, 13])
        XCTAssertEqual((10 - A).scalars, [9, 8, 7, 6, 5, 4])
        XCTAssertEqual((1 / T([2], [2, 4])).scalars, [0.5, 0.25])
        XCTAssertEqual((-A).scalars, [-1, -2, -3, -4, -5, -6])
        // A transposed view plus a broadcast column: [[1,4],[2,5],[3,6]] + [[1],[2],[3]].
        XCTAssertEqual((A.transposed(0, 1) + T([3, 1], [1, 2, 3])).scalars, [2, 5, 4, 7, 6, 9])
        XCTAssertEqual(maximum(T([3], [1, 5, 3]), T([3], [2, 4, 3])).scalars, [2, 5, 3])
    }

    func testUnary() {
        // Values: Φ(1) = 0.8413447461, Φ(2) = 0.9772498681, Φ(−3) = 0.0013498980.
        assertClose(gelu(T([5], [1, -1, 2, -3, 0])).scalars, [0.8413447, -0.1586553, 1.9544997, -0.0040497, 0], tol: 1e-6)
        assertClose(sigmoid(T([3], [0, 2, -2])).scalars, [0.5, 0.880797078, 0.119202922], tol: 1e-6)
        assertClose(exp(T([3], [1, -2, 0])).scalars, [2.71828183, 0.135335283, 1], tol: 1e-6)
        assertClose(log(T([2], [2.71828183, 1])).scalars, [1, 0], tol: 1e-6)
        assertClose(tanh(T([1], [0.5])).scalars, [0.46211716], tol: 1e-6)
        XCTAssertEqual(relu(T([3], [-1, 0, 2])).scalars, [0, 0, 2])
        XCTAssertEqual(abs(T([3], [-1, 0, 2])).scalars, [1, 0, 2])
        XCTAssertEqual(sqrt(T([2], [4, 9])).scalars, [2, 3])
        assertClose(pow(T([2], [2, 3]), 3).scalars, [8, 27])
        XCTAssertEqual(clamp(T([3], [-1, 0.5, 2]), min: 0, max: 1).scalars, [0, 0.5, 1])
        XCTAssertEqual(clamp(T([2], [-1, 2]), min: 0).scalars, [0, 2])
    }

    /// The 8-lane exp and GELU against double-precision libm over a wide range.
    func testVectorMathAccuracy() {
        let xs = (0..<4001).map { Float($0 - 2000) / 100 }     // −20 … 20
        let x = T([xs.count], xs)
        let e = exp(x).scalars, g = gelu(x).scalars, s = sigmoid(x).scalars
        for (i, v) in xs.enumerated() {
            let d = Double(v)
            let refE = Foundation.exp(d)
            XCTAssertLessThanOrEqual(Swift.abs(Double(e[i]) - refE), 3e-7 * refE, "exp(\(v))")
            let refG = 0.5 * d * (1 + Foundation.erf(d / 2.0.squareRoot()))
            XCTAssertLessThanOrEqual(Swift.abs(Double(g[i]) - refG), 1e-6 * max(1, Swift.abs(refG)), "gelu(\(v))")
            let refS = 1 / (1 + Foundation.exp(-d))
            XCTAssertLessThanOrEqual(Swift.abs(Double(s[i]) - refS), 1e-6, "sigmoid(\(v))")
        }
        XCTAssertEqual(exp(T([9], [-100, -100, -100, -100, -100, -100, -100, -100, 0])).scalars[0], 0)
    }

    func testMatmul() {
        let B = T([3, 2], [7, 8, 9, 10, 11, 12])
        let C: [Float] = [58, 64, 139, 154]     // [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]]
        XCTAssertEqual(matmul(A, B).scalars, C)
        XCTAssertEqual(matmul(T([3, 2], [1, 4, 2, 5, 3, 6]), B, transposeA: true).scalars, C)
        XCTAssertEqual(matmul(A, T([2, 3], [7, 9, 11, 8, 10, 12]), transposeB: true).scalars, C)
        XCTAssertEqual(matmul(A.transposed(0, 1).contiguous().transposed(0, 1), B).scalars, C)
        // Batched a with a 2-D b (one GEMM), and 2-D a with batched b (broadcast).
        let a2 = concat([A.unsqueezed(axis: 0), (A * 2).unsqueezed(axis: 0)], axis: 0)
        XCTAssertEqual(matmul(a2, B).scalars, C + C.map { $0 * 2 })
        let b2 = concat([B.unsqueezed(axis: 0), (B * 2).unsqueezed(axis: 0)], axis: 0)
        XCTAssertEqual(matmul(A, b2).shape, [2, 2, 2])
        XCTAssertEqual(matmul(A, b2).scalars, C + C.map { $0 * 2 })
        // Batch axes that broadcast both ways: [2,1,2,3]·[1,3,3,2] → [2,3,2,2].
        let x = Tensor.randn([2, 1, 2, 3], seed: 1), y = Tensor.randn([1, 3, 3, 2], seed: 2)
        let z = matmul(x, y)
        XCTAssertEqual(z.shape, [2, 3, 2, 2])
        for i in 0..<2 { for j in 0..<3 { for m in 0..<2 { for n in 0..<2 {
            var acc: Float = 0
            for k in 0..<3 { acc += x[i, 0, m, k] * y[0, j, k, n] }
            XCTAssertEqual(z[i, j, m, n], acc, accuracy: 1e-5)
        } } } }
    }

    func testLinear() {
        let x = T([1, 3], [1, 2, 3]), w = T([2, 3], [1, 0, -1, 2, 1, 0]), b = T([2], [0.5, -1])
        XCTAssertEqual(linear(x, weight: w, bias: b).scalars, [-1.5, 3])
        XCTAssertEqual(linear(x, weight: w, bias: nil).scalars, [-2, 4])
        // gelu(−1.5) = −1.5·Φ(−1.5) = −1.5·0.0668072; gelu(3) = 3·0.9986501.
        assertClose(linearGELU(x, weight: w, bias: b).scalars, [-0.1002108, 2.9959502], tol: 1e-6)
        // A non-contiguous input [2, 1, 3] view.
        let xs = T([3, 2], [1, 4, 2, 5, 3, 6]).transposed(0, 1).unsqueezed(axis: 1)
        XCTAssertEqual(linear(xs, weight: w, bias: b).scalars, [-1.5, 3, -1.5, 12])
    }

    func testReductions() {
        XCTAssertEqual(sum(A, axes: [0]).scalars, [5, 7, 9])
        XCTAssertEqual(sum(A, axes: [1]).scalars, [6, 15])
        XCTAssertEqual(mean(A, axes: [-1]).scalars, [2, 5])
        XCTAssertEqual(sum(A).item, 21)
        let x = T([2, 3, 2], (0..<12).map(Float.init))
        XCTAssertEqual(sum(x, axes: [0, 2]).scalars, [14, 22, 30])
        let k = sum(x, axes: [1], keepDims: true)
        XCTAssertEqual(k.shape, [2, 1, 2])
        XCTAssertEqual(k.scalars, [6, 9, 24, 27])
        XCTAssertEqual(meanPool(T([1, 3, 2], [1, 2, 3, 4, 5, 6]), axis: 1).scalars, [3, 4])
    }

    func testSoftmaxLayerNorm() {
        assertClose(softmax(T([3], [1, 2, 3]), axis: 0).scalars, [0.09003057, 0.24472847, 0.66524096], tol: 1e-6)
        assertClose(softmax(T([2, 2], [1, 1, 2, 3]), axis: 0).scalars, [0.26894142, 0.11920292, 0.73105858, 0.88079708], tol: 1e-6)
        assertClose(logSoftmax(T([1, 3], [1, 2, 3]), axis: 1).scalars, [-2.40760596, -1.40760596, -0.40760596], tol: 1e-6)
        // Long rows exercise the vector path: softmax of 0…19 sums to 1, ratio e between neighbours.
        let s = softmax(T([20], (0..<20).map(Float.init)), axis: 0).scalars
        XCTAssertEqual(s.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(s[19] / s[18], 2.7182817, accuracy: 1e-5)
        // mean 2.5, var 1.25: (x − 2.5)/√1.25001.
        assertClose(layerNorm(T([1, 4], [1, 2, 3, 4]), weight: T([4], [1, 2, 1, 1]), bias: T([4], [0, 0, 0, 1]), eps: 1e-5).scalars,
                    [-1.341635, -0.894424, 0.447212, 2.341635], tol: 1e-5)
        assertClose(layerNorm(T([4], [1, 2, 3, 4]), weight: nil, bias: nil, eps: 1e-5).scalars,
                    [-1.341635, -0.447212, 0.447212, 1.341635], tol: 1e-5)
        assertClose(l2Normalize(T([2, 2], [3, 4, 0, 0]), axis: 1).scalars, [0.6, 0.8, 0, 0], tol: 1e-6)
    }

    /// RAM++'s description reweighting: fused (no tape) and taped paths against a double loop.
    func testGroupedSoftmaxSum() {
        let b = 2, n = 3, d = 5, c = 37   // c not a multiple of 8: exercises the scalar tails
        let q = Tensor.randn([b, c], seed: 11), t = Tensor.randn([n * d, c], seed: 12)
        let scale: Float = 2.5
        let qs = q.scalars, ts = t.scalars
        var expected = [Float](repeating: 0, count: b * n * c)
        for i in 0..<b {
            for g in 0..<n {
                var s = [Double](repeating: 0, count: d)
                for j in 0..<d {
                    for k in 0..<c { s[j] += Double(qs[i * c + k]) * Double(ts[(g * d + j) * c + k]) }
                    s[j] *= Double(scale)
                }
                let m = s.max()!
                let e = s.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                for k in 0..<c {
                    var acc = 0.0
                    for j in 0..<d { acc += e[j] / z * Double(ts[(g * d + j) * c + k]) }
                    expected[(i * n + g) * c + k] = Float(acc)
                }
            }
        }
        let fused = withNoGrad { groupedSoftmaxSum(query: q, table: t, groupSize: d, scale: scale) }
        XCTAssertEqual(fused.shape, [b, n, c])
        assertClose(fused.scalars, expected, tol: 1e-5, "fused")
        var ql = q; ql.requiresGrad = true
        let taped = groupedSoftmaxSum(query: ql, table: t, groupSize: d, scale: scale)
        XCTAssertEqual(taped.shape, [b, n, c])
        assertClose(taped.scalars, expected, tol: 1e-5, "taped")
    }

    /// Gather + residual add in one pass, no tape and taped, against the two separate ops.
    func testIndexSelectAdding() {
        let x = Tensor.randn([2, 5, 11], seed: 21), base = Tensor.randn([2, 4, 11], seed: 22)
        let idx = [4, 0, 2, 2]
        let expected = (base + indexSelect(x, axis: 1, indices: idx)).scalars
        let fused = withNoGrad { indexSelect(x, axis: 1, indices: idx, adding: base) }
        XCTAssertEqual(fused.shape, [2, 4, 11])
        assertClose(fused.scalars, expected, tol: 1e-6, "fused")
        var xl = x; xl.requiresGrad = true
        assertClose(indexSelect(xl, axis: 1, indices: idx, adding: base).scalars, expected, tol: 1e-6, "taped")
    }

    /// LayerNorm of gathered rows in one pass, against LayerNorm then the gather.
    func testLayerNormGatheringRows() {
        let x = Tensor.randn([2, 5, 13], seed: 31)
        let w = Tensor.randn([13], seed: 32), b = Tensor.randn([13], seed: 33)
        let idx = [3, 1, 4, 0, 2]
        let expected = indexSelect(layerNorm(x, weight: w, bias: b, eps: 1e-5), axis: 1, indices: idx).scalars
        let fused = withNoGrad { layerNorm(x, weight: w, bias: b, eps: 1e-5, gatheringRows: idx) }
        XCTAssertEqual(fused.shape, [2, 5, 13])
        assertClose(fused.scalars, expected, tol: 1e-6, "fused")
        var xl = x; xl.requiresGrad = true
        assertClose(layerNorm(xl, weight: w, bias: b, eps: 1e-5, gatheringRows: idx).scalars, expected, tol: 1e-6, "taped")
    }

    func testStructure() {
        XCTAssertEqual(roll(T([6], [0, 1, 2, 3, 4, 5]), shifts: [2], axes: [0]).scalars, [4, 5, 0, 1, 2, 3])
        XCTAssertEqual(roll(T([2, 3], [0, 1, 2, 3, 4, 5]), shifts: [1, -1], axes: [0, 1]).scalars, [4, 5, 3, 1, 2, 0])
        let w = T([3, 2], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(indexSelect(w, axis: 0, indices: [2, 0, 2]).scalars, [5, 6, 1, 2, 5, 6])
        XCTAssertEqual(indexSelect(w, axis: 1, indices: [1]).scalars, [2, 4, 6])
        let e = embedding(w, indices: [1, 2, 0, 1], shape: [2, 2])
        XCTAssertEqual(e.shape, [2, 2, 2])
        XCTAssertEqual(e.scalars, [3, 4, 5, 6, 1, 2, 3, 4])
        XCTAssertEqual(maskedFill(T([2, 2], [1, 2, 3, 4]), mask: T([2], [0, 1]), value: -9).scalars, [1, -9, 3, -9])
        let inf = maskedFill(T([2], [1, 2]), mask: T([2], [1, 0]), value: -.infinity).scalars
        XCTAssertEqual(inf[0], -.infinity); XCTAssertEqual(inf[1], 2)
        XCTAssertEqual(where_(T([3], [1, 0, 1]), T([3], [1, 2, 3]), T([1], [10])).scalars, [1, 10, 3])
    }

    /// Patch embedding against a direct convolution loop (kernel = stride = 2), with a 5×5
    /// input whose last row/column are ignored as by torch's conv.
    func testPatchEmbed() {
        let x = Tensor.randn([2, 3, 5, 5], seed: 3), w = Tensor.randn([4, 3, 2, 2], seed: 4), b = Tensor.randn([4], seed: 5)
        let y = patchEmbed(x, weight: w, bias: b, patch: 2)
        XCTAssertEqual(y.shape, [2, 4, 2, 2])
        for n in 0..<2 { for o in 0..<4 { for i in 0..<2 { for j in 0..<2 {
            var acc = b[o]
            for c in 0..<3 { for u in 0..<2 { for v in 0..<2 { acc += x[n, c, 2 * i + u, 2 * j + v] * w[o, c, u, v] } } }
            XCTAssertEqual(y[n, o, i, j], acc, accuracy: 1e-5)
        } } } }
    }

    /// Fused attention against a double-precision loop, with bias, a window mask (b % M),
    /// key padding, and q/k/v read from a permuted qkv projection (strided views).
    func testAttention() {
        let B = 4, H = 2, N = 5, D = 3, M = 2
        let qkv = Tensor.randn([B, N, 3, H, D], seed: 7).permuted([2, 0, 3, 1, 4])   // [3, B, H, N, D]
        let q = qkv.select(axis: 0, 0), k = qkv.select(axis: 0, 1), v = qkv.select(axis: 0, 2)
        let bias = Tensor.randn([H, N, N], seed: 8), mask = Tensor.randn([M, N, N], seed: 9)
        var pad = [Float](repeating: 0, count: B * N); pad[3] = -100; pad[B * N - 1] = -100
        let kp = T([B, N], pad)
        let scale: Float = 0.577
        for useGrad in [false, true] {
            var qq = q
            if useGrad { qq = q.contiguous(); qq.requiresGrad = true }
            let out = attention(q: qq, k: k, v: v, scale: scale, bias: bias, mask: mask, keyPadding: kp)
            XCTAssertEqual(out.shape, [B, H, N, D])
            for b in 0..<B { for h in 0..<H { for i in 0..<N {
                var s = [Double](repeating: 0, count: N)
                for j in 0..<N {
                    var dot = 0.0
                    for d in 0..<D { dot += Double(q[b, h, i, d]) * Double(k[b, h, j, d]) }
                    s[j] = dot * Double(scale) + Double(bias[h, i, j]) + Double(mask[b % M, i, j]) + Double(kp[b, j])
                }
                let m = s.max()!
                let e = s.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
                for d in 0..<D {
                    var acc = 0.0
                    for j in 0..<N { acc += e[j] / z * Double(v[b, h, j, d]) }
                    XCTAssertEqual(Double(out[b, h, i, d]), acc, accuracy: 1e-5, "grad=\(useGrad) b\(b) h\(h) i\(i) d\(d)")
                }
            } } }
        }
        // Odd sizes that exercise every tile edge of the small-GEMM kernel (16- and 8-column
        // panels, scalar columns, leftover rows), against the taped composition (BLAS matmuls).
        for (nq, nk, d, dv) in [(7, 29, 5, 24), (9, 16, 32, 8), (1, 3, 2, 1), (13, 41, 16, 40), (50, 19, 8, 16)] {
            let q2 = Tensor.randn([2, 3, nq, d], seed: 30), k2 = Tensor.randn([2, 3, nk, d], seed: 31)
            let v2 = Tensor.randn([2, 3, nk, dv], seed: 32), b2 = Tensor.randn([3, nq, nk], seed: 33)
            let m2 = Tensor.randn([2, nq, nk], seed: 34)
            let fused = withNoGrad {
                attention(q: q2, k: k2.transposed(2, 3).contiguous().transposed(2, 3), v: v2, scale: 0.3, bias: b2, mask: m2)
            }
            var qg = q2; qg.requiresGrad = true
            let composed = attention(q: qg, k: k2, v: v2, scale: 0.3, bias: b2, mask: m2)
            assertClose(fused.scalars, composed.scalars, tol: 1e-5, "attention \(nq)×\(nk)×\(d)×\(dv)")
        }
        // The fused output is a view whose transpose(1, 2) is contiguous (free reshape to tokens).
        XCTAssertTrue(attention(q: q, k: k, v: v, scale: 1).transposed(1, 2).isContiguous)
    }

    func testTraining() {
        let x = Tensor(ones: [1000])
        XCTAssertEqual(dropout(x, p: 0.5, training: false, seed: 1).scalars, x.scalars)
        let d = dropout(x, p: 0.5, training: true, seed: 1).scalars
        XCTAssertTrue(d.allSatisfy { $0 == 0 || $0 == 2 })
        let kept = d.filter { $0 == 2 }.count
        XCTAssertTrue(kept > 430 && kept < 570, "kept \(kept) of 1000 at p = 0.5")
        XCTAssertEqual(dropout(x, p: 0.5, training: true, seed: 1).scalars, d, "same seed, same mask")
        let dp = dropPath(Tensor(ones: [64, 3]), p: 0.25, training: true, seed: 2)
        for r in 0..<64 {
            let row = dp.select(axis: 0, r).scalars
            XCTAssertTrue(row == [0, 0, 0] || row.allSatisfy { Swift.abs($0 - 4 / 3) < 1e-6 })
        }
        // −log softmax([1,2,3])[2] = 0.40760596; the ignored row does not count.
        XCTAssertEqual(crossEntropy(T([2, 3], [1, 2, 3, 1, 2, 3]), targets: [2, -100]).item, 0.40760596, accuracy: 1e-6)
        XCTAssertEqual(crossEntropy(T([2, 3], [1, 2, 3, 1, 2, 3]), targets: [0, 1]).item, 1.90760596, accuracy: 1e-6)
        XCTAssertEqual(crossEntropy(T([1, 3], [1, 2, 3]), targets: [-100]).item, 0, "every row ignored")
        XCTAssertEqual(l1Loss(T([2], [1, 2]), T([2], [2, 0])).item, 1.5)
    }

    /// Freed activation buffers are reused for the next allocation of the same size.
    func testBufferPoolReuse() {
        let n = 123_457
        var first: UnsafeMutablePointer<Float>? = nil
        do {
            let a = Tensor(zeros: [n])
            first = a.storage.pointer
        }
        let hits = BufferPool.shared.hits
        do {
            let b = Tensor(ones: [n])
            XCTAssertEqual(b.storage.pointer, first)
            XCTAssertEqual(BufferPool.shared.hits, hits + 1)
        }
        let z = Tensor(zeros: [n])
        XCTAssertEqual(z.storage.pointer, first, "the buffer of the ones is reused")
        XCTAssertEqual(z.scalars.max(), 0, "zeros are zeroed even from a reused buffer")
    }

    func testNoGradRecordsNothing() {
        var w = T([2], [1, 2]); w.requiresGrad = true
        let y = withNoGrad { w * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue((w * 3).requiresGrad)
        // Grad mode is per thread: another thread inside withNoGrad leaves this one taping.
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            withNoGrad { inside.signal(); release.wait() }
            done.signal()
        }
        inside.wait()
        XCTAssertTrue(GradMode.isEnabled)
        XCTAssertTrue((w * 3).requiresGrad)
        release.signal()
        done.wait()
    }
}
