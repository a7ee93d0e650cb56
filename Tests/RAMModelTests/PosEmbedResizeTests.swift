import Foundation
import RAMBackbones
import RAMCheckpoint
import RAMCore
import RAMDefaultPlugins
import RAMModels
import RAMTensor
import XCTest

/// A ViT checkpoint trained at 224 (14×14 patch grid) loaded into a 384 model (24×24): the
/// loader resizes `visual_encoder.pos_embed` as the reference's `interpolate_pos_embed` does.
final class PosEmbedResizeTests: XCTestCase {
    func testViT224CheckpointLoadsInto384Model() throws {
        let dir = try Fixtures.requireFixtures()
        let file = Fixtures.packageRoot.appendingPathComponent("configs/fixtures/ram_plus_vit_tiny_224.yaml")
        let root = try ConfigNode.load(file: file)
        var arch = try XCTUnwrap(root["Arch"]).removing(key: "name")
        arch = arch.merged(with: .map([(key: "image_size", value: .int(384))]))
        let registries = try DefaultPlugins.registries()
        let cc = ComponentConfig(path: "Arch", node: arch, registries: registries,
                                 baseDirectory: file.deletingLastPathComponent())
        let model = try registries.arch.build("ram_plus", cc)
        let loadable = try XCTUnwrap(model as? PretrainedLoadable)
        let summary = try loadable.loadPretrained(from: dir.appendingPathComponent("ram_plus_vit_tiny_224.pth"))
        XCTAssertTrue(summary.contains("0 missing, 0 unexpected"), summary)

        let stored = try XCTUnwrap(Checkpoint.load(dir.appendingPathComponent("ram_plus_vit_tiny_224.pth"))["visual_encoder.pos_embed"])
        XCTAssertEqual(stored.shape, [1, 1 + 14 * 14, 64])
        let pos = try XCTUnwrap(model.namedParameters().first { $0.0 == "visual_encoder.pos_embed" }?.1)
        XCTAssertEqual(pos.shape, [1, 1 + 24 * 24, 64])
        let old = try stored.floats(), new = pos.value.scalars
        // The class token's row is kept as it is.
        XCTAssertEqual(Array(new[0..<64]), Array(old[0..<64]))
        // Grid corners: with align_corners=False the first output sample sits at source
        // coordinate (0.5·14/24 − 0.5) < 0, so it is close to (not equal to) the corner patch.
        let c = 5
        XCTAssertEqual(new[64 + c], old[64 + c], accuracy: 0.5 * abs(old[64 + c]) + 0.05)
        XCTAssertNotEqual(new[64 + c], old[64 + c])

        // The resized model runs at 384: [1, 1 + 576, 64] tokens, logits for the 64 tags.
        let out = withNoGrad { model.forward(Tensor(zeros: [1, 3, 384, 384])) }
        XCTAssertEqual(out.logits.shape, [1, 64])
        XCTAssertTrue(out.logits.scalars.allSatisfy { $0.isFinite })
    }
}
