import Foundation
import RAMCore
import RAMNN
import RAMTensor
import XCTest
@testable import RAMBackbones

/// Training through the encoders: every parameter receives a gradient, and the gradient of the
/// parts that are specific to Swin (relative position table, shifted-window gather, patch
/// merging) agrees with central finite differences.
final class BackboneGradientTests: XCTestCase {
    /// 16×16 input, patch 4 → a 4×4 grid with 2×2 windows (stage 0 shifted by 1), then 2×2.
    func tinySwin() throws -> SwinTransformer {
        var config = try SwinConfig.preset("swin_b", imageSize: 224)
            .overridden(by: .map([("image_res", .int(16)), ("window_size", .int(2)), ("embed_dim", .int(8)),
                                  ("depths", .list([.int(2), .int(2)])), ("num_heads", .list([.int(2), .int(2)]))]),
                        source: "test")
        config.dropPathRate = 0
        return try SwinTransformer(config: config, seed: 3)
    }

    func loss(_ model: any Backbone, _ x: Tensor, _ w: Tensor) -> Tensor { sum(model.forward(x) * w) }

    func testSwinGradientsMatchFiniteDifferences() throws {
        let model = try tinySwin()
        XCTAssertEqual(model.layers[0].blocks[1].shift, 1)
        XCTAssertEqual(model.layers[1].blocks[1].shift, 0)
        let x = Tensor.randn([2, 3, 16, 16], seed: 11)
        let w = Tensor.randn([2, 5, 16], seed: 12)
        model.zeroGrad()
        loss(model, x, w).backward()
        for (name, p) in model.namedParameters() {
            XCTAssertNotNil(p.grad, "no gradient for \(name)")
        }
        let checks: [(String, Int)] = [
            ("layers.0.blocks.1.attn.relative_position_bias_table", 4),
            ("layers.0.blocks.1.attn.qkv.weight", 37),
            ("layers.0.downsample.reduction.weight", 5),
            ("layers.0.blocks.0.norm1.weight", 2),
            ("patch_embed.proj.weight", 17),
        ]
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
        for (name, index) in checks {
            let p = try XCTUnwrap(params[name], name)
            let analytic = try XCTUnwrap(p.grad, name).scalars[index]
            let original = p.value
            let h: Float = 1e-2
            func perturbed(_ delta: Float) -> Float {
                var values = original.scalars
                values[index] += delta
                p.value = Tensor(shape: original.shape, scalars: values)
                return withNoGrad { loss(model, x, w).scalars[0] }
            }
            let numeric = (perturbed(h) - perturbed(-h)) / (2 * h)
            p.value = original
            XCTAssertEqual(analytic, numeric, accuracy: 2e-3 * max(1, abs(numeric)), name)
        }
    }

    func testViTGradientsReachEveryParameter() throws {
        var config = try ViTConfig.preset("base", imageSize: 32)
            .overridden(by: .map([("embed_dim", .int(8)), ("depth", .int(2)), ("num_heads", .int(2))]), source: "test")
        config.dropPathRate = 0
        let model = try VisionTransformer(config: config, seed: 5)
        let x = Tensor.randn([2, 3, 32, 32], seed: 1)
        let w = Tensor.randn([2, 5, 8], seed: 2)
        loss(model, x, w).backward()
        for (name, p) in model.namedParameters() { XCTAssertNotNil(p.grad, "no gradient for \(name)") }
        // One entry of pos_embed (added to every image) against central differences.
        let p = model.pos_embed
        let analytic = try XCTUnwrap(p.grad).scalars[13]
        let original = p.value
        func perturbed(_ delta: Float) -> Float {
            var values = original.scalars
            values[13] += delta
            p.value = Tensor(shape: original.shape, scalars: values)
            return withNoGrad { loss(model, x, w).scalars[0] }
        }
        let numeric = (perturbed(1e-2) - perturbed(-1e-2)) / 2e-2
        p.value = original
        XCTAssertEqual(analytic, numeric, accuracy: 2e-3 * max(1, abs(numeric)))
    }
}
