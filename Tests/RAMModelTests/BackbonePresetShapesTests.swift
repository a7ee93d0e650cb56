import Foundation
import RAMCore
import RAMModels
import XCTest
@testable import RAMBackbones

/// The full-size presets, built for real, against the architecture spec the RAM models plan
/// checkpoints with (`VisionSpec`, written independently from the reference's shapes), and
/// against parameter counts computed by hand from the Swin formulas.
final class BackbonePresetShapesTests: XCTestCase {
    func check(_ vit: String, _ size: Int, parameters: Int) throws {
        let backbone = try BackboneFactory.make(name: vit, imageSize: size)
        let mine = backbone.namedParameters().map { ($0.0, $0.1.shape) }.sorted { $0.0 < $1.0 }
        let spec = try XCTUnwrap(VisionSpec.preset(vit: vit, imageSize: size)).parameterShapes(prefix: "")
            .sorted { $0.0 < $1.0 }
        XCTAssertEqual(mine.map(\.0), spec.map(\.0), "\(vit)/\(size) names")
        for ((name, a), (_, b)) in zip(mine, spec) where a != b {
            XCTFail("\(vit)/\(size) \(name): \(a) vs spec \(b)")
        }
        XCTAssertEqual(mine.reduce(0) { $0 + $1.1.reduce(1, *) }, parameters, "\(vit)/\(size) parameter count")
        XCTAssertTrue(backbone.namedBuffers().isEmpty, "no buffers: relative_position_index / attn_mask are derived")
    }

    func testSwinL384() throws {
        // Per block at width C with h heads and window W: 2C (norm1) + (2W−1)²·h + 3C² + 3C (qkv) +
        // C² + C (proj) + 2C (norm2) + 4C² + 4C + 4C² + C (mlp); merging 8C² + 8C; patch embed
        // 48·192 + 192 + 2·192; final norm 2·1536 → 195,198,516.
        try check("swin_l", 384, parameters: 195_198_516)
    }

    func testSwinB224() throws {
        try check("swin_b", 224, parameters: 86_743_224)
    }

    func testViTBase224() throws {
        // 768·3·256 + 768 (patch) + 768 (cls) + 197·768 (pos) + 12·(4·768 + 3·768² + 3·768 + 768²
        // + 768 + 4·768² + 4·768 + 4·768² + 768) + 2·768 = 85,798,656.
        try check("base", 224, parameters: 85_798_656)
    }
}
