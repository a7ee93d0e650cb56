import XCTest
import RAMTensor
import RAMNN

final class TinyMLP: Module {
    let fc1 = Linear(4, 16, seed: 1)
    let norm = LayerNorm(16)
    let fc2 = Linear(16, 3, seed: 2)
    func callAsFunction(_ x: Tensor) -> Tensor { fc2(norm(fc1.gelu(x))) }
}

/// End to end: the tape, parameter gradients and in-place (copy-on-write) parameter updates
/// train a small classifier; the loss must fall well below its starting value.
final class TrainingTests: XCTestCase {
    func testSGDReducesLoss() {
        let model = TinyMLP()
        model.train(true)
        // Three separable classes: the label is the index of the largest of the first 3 inputs.
        let x = Tensor.randn([32, 4], seed: 3)
        let xs = x.scalars
        let labels = (0..<32).map { i -> Int in
            let row = Array(xs[(i * 4)..<(i * 4 + 3)])
            return row.firstIndex(of: row.max()!)!
        }
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            model.zeroGrad()
            let loss = crossEntropy(model(x), targets: labels)
            if step == 0 { first = loss.item }
            last = loss.item
            loss.backward()
            for p in model.parameters() {
                guard let g = p.grad?.scalars else { XCTFail("no gradient"); return }
                p.value.withUnsafeMutableBufferPointer { w in for i in 0..<w.count { w[i] -= 0.3 * g[i] } }
                XCTAssertTrue(p.value.requiresGrad)
            }
        }
        XCTAssertLessThan(last, first * 0.3, "loss \(first) → \(last)")
        // Inference mode records nothing.
        XCTAssertFalse(withNoGrad { model(x) }.requiresGrad)
    }
}
