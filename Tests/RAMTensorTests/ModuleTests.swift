import XCTest
import RAMTensor
@testable import RAMNN

final class Attn: Module {
    let qkv = Linear(4, 12, seed: 1)
    let proj = Linear(4, 4, bias: false, seed: 2)
}
final class Block: Module {
    let norm1 = LayerNorm(4)
    let attn = Attn()
    var downsample: Linear? = nil
}
final class Net: Module {
    let layers: [Block] = [Block(), Block()]
    let head: Linear? = Linear(4, 2, seed: 3)
    let relative_position_index = Parameter(Tensor(zeros: [3]), isBuffer: true)
    let note = "not a tensor"
}

final class ModuleTests: XCTestCase {
    func testNamedParameters() {
        let net = Net()
        XCTAssertEqual(net.namedParameters().map { $0.0 }, [
            "layers.0.norm1.weight", "layers.0.norm1.bias", "layers.0.attn.qkv.weight", "layers.0.attn.qkv.bias",
            "layers.0.attn.proj.weight",
            "layers.1.norm1.weight", "layers.1.norm1.bias", "layers.1.attn.qkv.weight", "layers.1.attn.qkv.bias",
            "layers.1.attn.proj.weight",
            "head.weight", "head.bias",
        ])
        XCTAssertEqual(net.namedBuffers().map { $0.0 }, ["relative_position_index"])
        XCTAssertTrue(net.namedParameters().allSatisfy { $0.1.value.requiresGrad })
        XCTAssertFalse(net.relative_position_index.value.requiresGrad)
        net.train(true)
        XCTAssertTrue(net.layers[1].attn.qkv.training)
        net.eval()
        XCTAssertFalse(net.layers[1].attn.qkv.training)
    }

    func testLoad() throws {
        let net = Net()
        var sd = net.stateDict()
        sd["head.bias"] = Tensor(shape: [2], scalars: [5, 6])
        let report = try net.load(sd, strict: true)
        XCTAssertEqual(report.loaded, 13)
        XCTAssertEqual(net.head!.bias!.value.scalars, [5, 6])
        XCTAssertTrue(net.head!.bias!.value.requiresGrad, "a loaded parameter stays trainable")

        var bad = sd
        bad["head.weight"] = Tensor(zeros: [3, 4])
        bad.removeValue(forKey: "layers.0.norm1.bias")
        bad["extra.weight"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try net.load(bad, strict: true)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("layers.0.norm1.bias") && text.contains("extra.weight") && text.contains("head.weight"), text)
        }
        XCTAssertEqual(net.head!.bias!.value.scalars, [5, 6], "a failed strict load changes nothing")
        let lax = try net.load(bad, strict: false)
        XCTAssertEqual(lax.missing, ["layers.0.norm1.bias"])
        XCTAssertEqual(lax.unexpected, ["extra.weight"])
        XCTAssertEqual(lax.shapeMismatches.map { $0.key }, ["head.weight"])
    }

    func testLayers() {
        let lin = Linear(3, 2, seed: 0)
        lin.weight.value = Tensor(shape: [2, 3], scalars: [1, 0, -1, 2, 1, 0])
        lin.bias!.value = Tensor(shape: [2], scalars: [0.5, -1])
        XCTAssertEqual(withNoGrad { lin(Tensor(shape: [1, 3], scalars: [1, 2, 3])) }.scalars, [-1.5, 3])
        let ln = LayerNorm(4, eps: 1e-5)
        XCTAssertEqual(ln(Tensor(shape: [4], scalars: [1, 2, 3, 4])).scalars[0], -1.341635, accuracy: 1e-5)
        let emb = Embedding(3, 2)
        emb.weight.value = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(emb([2, 0], shape: [2]).scalars, [5, 6, 1, 2])
        // Gradients reach parameters through a module.
        let y = sum(lin(Tensor(shape: [1, 3], scalars: [1, 2, 3])))
        y.backward()
        XCTAssertEqual(lin.weight.grad!.scalars, [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(lin.bias!.grad!.scalars, [1, 1])
        lin.zeroGrad()
        XCTAssertNil(lin.weight.grad)
    }
}
