import XCTest
import Foundation
@testable import RAMTensor

/// Finite-difference checks of every op's backward (see `gradCheck`).
final class GradientTests: XCTestCase {
    func testArithmetic() {
        let a = Tensor.randn([2, 3], seed: 1), b = Tensor.randn([3], seed: 2), c = Tensor.randn([2, 1], seed: 3)
        gradCheck([a, b], "add") { $0[0] + $0[1] }
        gradCheck([a, c], "sub") { $0[0] - $0[1] }
        gradCheck([a, b], "mul") { $0[0] * $0[1] }
        gradCheck([a, b + 3], "div") { $0[0] / $0[1] }
        gradCheck([a], "scalar ops") { (2 - $0[0] * 3 + 1) / 2 }
        gradCheck([b + 3], "reciprocal") { 2 / $0[0] }
        gradCheck([a, c], "maximum") { maximum($0[0], $0[1]) }
    }

    func testUnary() {
        let x = Tensor.randn([7], seed: 4)
        let pos = abs(x) + 0.5
        // Keep away from the kinks of relu/abs/clamp so the central difference is valid.
        let away = T([6], [-1.3, -0.7, -0.2, 0.3, 0.9, 1.6])
        gradCheck([x], "exp") { exp($0[0]) }
        gradCheck([pos], "log") { log($0[0]) }
        gradCheck([x], "sigmoid") { sigmoid($0[0]) }
        gradCheck([x], "tanh") { tanh($0[0]) }
        gradCheck([away], "relu") { relu($0[0]) }
        gradCheck([x * 2], "gelu") { gelu($0[0]) }
        gradCheck([pos], "sqrt") { sqrt($0[0]) }
        gradCheck([away], "abs") { abs($0[0]) }
        gradCheck([pos], "pow") { pow($0[0], 2.5) }
        gradCheck([away], "clamp") { clamp($0[0], min: -1, max: 1) }
    }

    func testMatmulLinear() {
        let a = Tensor.randn([2, 3], seed: 5), b = Tensor.randn([3, 4], seed: 6)
        gradCheck([a, b], "matmul") { matmul($0[0], $0[1]) }
        gradCheck([a.transposed(0, 1).contiguous(), b], "matmul transposeA") { matmul($0[0], $0[1], transposeA: true) }
        gradCheck([a, b.transposed(0, 1).contiguous()], "matmul transposeB") { matmul($0[0], $0[1], transposeB: true) }
        let ba = Tensor.randn([2, 1, 2, 3], seed: 7), bb = Tensor.randn([3, 3, 2], seed: 8)
        gradCheck([ba, bb], "batched broadcast matmul") { matmul($0[0], $0[1]) }
        let x = Tensor.randn([2, 2, 3], seed: 9), w = Tensor.randn([4, 3], seed: 10), bias = Tensor.randn([4], seed: 11)
        gradCheck([x, w, bias], "linear") { linear($0[0], weight: $0[1], bias: $0[2]) }
        gradCheck([x, w, bias], "linearGELU") { linearGELU($0[0], weight: $0[1], bias: $0[2]) }
    }

    func testReductionsNorms() {
        let x = Tensor.randn([2, 3, 4], seed: 12)
        gradCheck([x], "sum") { sum($0[0], axes: [0, 2]) }
        gradCheck([x], "mean keepDims") { mean($0[0], axes: [1], keepDims: true) }
        gradCheck([x], "meanPool") { meanPool($0[0], axis: 1) }
        gradCheck([x], "softmax last") { softmax($0[0], axis: -1) }
        gradCheck([x], "softmax middle") { softmax($0[0], axis: 1) }
        gradCheck([x], "logSoftmax") { logSoftmax($0[0], axis: 2) }
        let w = Tensor.randn([4], seed: 13) + 1, b = Tensor.randn([4], seed: 14)
        gradCheck([x, w, b], "layerNorm") { layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-5) }
        gradCheck([x], "layerNorm no affine") { layerNorm($0[0], weight: nil, bias: nil, eps: 1e-5) }
        gradCheck([x], "l2Normalize") { l2Normalize($0[0], axis: -1) }
    }

    func testStructure() {
        let x = Tensor.randn([2, 3, 4], seed: 15)
        gradCheck([x], "views") { $0[0].permuted([2, 0, 1]).reshaped([4, 6]).transposed(0, 1).slice(axis: 0, 1..<5).unsqueezed(axis: 0).squeezed(axis: 0) }
        gradCheck([x, Tensor.randn([2, 1, 4], seed: 16)], "concat") { concat([$0[0], $0[1]], axis: 1) }
        gradCheck([x], "split") { let p = split($0[0], sizes: [1, 3], axis: 2); return p[0] * 2 + sum(p[1], axes: [2], keepDims: true) }
        gradCheck([x], "roll") { roll($0[0], shifts: [1, -2], axes: [1, 2]) }
        gradCheck([x], "indexSelect") { indexSelect($0[0], axis: 1, indices: [2, 0, 2]) }
        gradCheck([Tensor.randn([5, 3], seed: 17)], "embedding") { embedding($0[0], indices: [4, 1, 1, 0], shape: [2, 2]) }
        gradCheck([x], "maskedFill") { maskedFill($0[0], mask: T([4], [1, 0, 0, 1]), value: -5) }
        gradCheck([x, Tensor.randn([3, 1], seed: 18)], "where") { where_(T([4], [1, 0, 1, 0]), $0[0], $0[1]) }
        gradCheck([x], "broadcast") { $0[0].slice(axis: 1, 0..<1).broadcast(to: [2, 3, 4]) }
        gradCheck([Tensor.randn([1, 2, 4, 4], seed: 19), Tensor.randn([3, 2, 2, 2], seed: 20), Tensor.randn([3], seed: 21)],
                  "patchEmbed") { patchEmbed($0[0], weight: $0[1], bias: $0[2], patch: 2) }
    }

    func testAttention() {
        let B = 2, H = 2, N = 3, D = 2
        let q = Tensor.randn([B, H, N, D], seed: 22), k = Tensor.randn([B, H, N, D], seed: 23), v = Tensor.randn([B, H, N, D], seed: 24)
        let bias = Tensor.randn([H, N, N], seed: 25), mask = Tensor.randn([2, N, N], seed: 26)
        gradCheck([q, k, v, bias], "attention") {
            attention(q: $0[0], k: $0[1], v: $0[2], scale: 0.7, bias: $0[3], mask: mask, keyPadding: T([B, N], [0, 0, -3, 0, 0, 0]))
        }
    }

    func testLossesDropout() {
        let logits = Tensor.randn([3, 4], seed: 27)
        gradCheck([logits], "crossEntropy") { crossEntropy($0[0], targets: [1, -100, 3]) }
        let a = T([4], [0.3, -1.2, 2, 0.1]), b = T([4], [1, 0.5, -0.4, -1])
        gradCheck([a, b], "l1Loss") { l1Loss($0[0], $0[1]) }
        let x = Tensor.randn([4, 3], seed: 28)
        gradCheck([x], "dropout") { dropout($0[0], p: 0.3, training: true, seed: 5) }
        gradCheck([x], "dropPath") { dropPath($0[0], p: 0.5, training: true, seed: 6) }
    }

    /// Gradients accumulate across backward calls; a deep chain is walked without recursion.
    func testAccumulationAndDepth() {
        var w = T([2], [1, 2]); w.requiresGrad = true
        sum(w * 3).backward()
        sum(w * w).backward()
        XCTAssertEqual(w.grad!.scalars, [3 + 2, 3 + 4])
        var y = w
        for _ in 0..<20000 { y = y * 1.0001 }
        sum(y).backward()
        XCTAssertEqual(w.grad!.scalars[0], 5 + Float(Foundation.pow(1.0001, 20000.0)), accuracy: 1e-2)
        // A tensor used twice gets both contributions: d/dw Σ (w·w + w) = 2w + 1.
        var z = T([2], [1, 2]); z.requiresGrad = true
        sum(z * z + z).backward()
        XCTAssertEqual(z.grad!.scalars, [3, 5])
    }
}
