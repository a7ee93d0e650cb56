import XCTest
@testable import RAMTensor

func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, _ msg: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "count \(msg)", file: file, line: line)
    for (i, (x, y)) in zip(a, b).enumerated() {
        if !(Swift.abs(x - y) <= tol * max(1, Swift.abs(y))) && !(x.isInfinite && x == y) {
            XCTFail("\(msg) element \(i): \(x) vs expected \(y) (tol \(tol))", file: file, line: line)
            return
        }
    }
}

func T(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(shape: shape, scalars: v) }

func leaf(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var t = Tensor.randn(shape, std: scale, seed: seed)
    t.requiresGrad = true
    return t
}

/// Finite-difference gradient check: loss = Σ f(inputs) ⊙ R for a fixed random R; compares the
/// taped gradient of every input element with a central difference (step `h`). The tolerance
/// is relative (|a − n| ≤ tol · max(1, |n|)), far below the error of a wrong sign or a
/// missing term (which are O(|n|)).
func gradCheck(_ inputs: [Tensor], h: Float = 1e-2, tol: Float = 2e-2, _ name: String,
               file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    var xs = inputs
    for i in xs.indices { xs[i] = xs[i].detached(); xs[i].requiresGrad = true }
    let out = f(xs)
    let R = Tensor.randn(out.shape, seed: 99)
    let loss = sum(out * R)
    loss.backward()
    var checked = 0
    for (k, x) in xs.enumerated() {
        guard let g = x.grad else { XCTFail("\(name): no gradient for input \(k)", file: file, line: line); continue }
        XCTAssertEqual(g.shape, x.shape, "\(name): grad shape", file: file, line: line)
        let analytic = g.scalars
        let base = x.scalars
        for e in 0..<base.count {
            func lossAt(_ v: Float) -> Double {
                var vals = base; vals[e] = v
                var ins = xs.map { $0.detached() }
                ins[k] = Tensor(shape: x.shape, scalars: vals)
                return withNoGrad { Double(sum(f(ins) * R).item) }
            }
            let numeric = Float((lossAt(base[e] + h) - lossAt(base[e] - h)) / Double(2 * h))
            if Swift.abs(analytic[e] - numeric) > tol * max(1, Swift.abs(numeric)) {
                XCTFail("\(name): input \(k) element \(e): autograd \(analytic[e]) vs finite difference \(numeric)",
                        file: file, line: line)
                return
            }
            checked += 1
        }
    }
    XCTAssertGreaterThan(checked, 0, name, file: file, line: line)
}
