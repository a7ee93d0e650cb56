import Foundation
import RAMCore
import RAMDefaultPlugins
import RAMNN
import XCTest

/// Swapping the backbone by changing only `Arch.vit` in a config: the same YAML, one override,
/// and the built model's image encoder (and what depends on its width) changes as the presets say.
final class BackboneSwapTests: XCTestCase {
    func parameterShapes(_ model: Module, prefix: String) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for (name, p) in model.namedParameters() where name.hasPrefix(prefix) { out[name] = p.value.shape }
        return out
    }

    func testChangingOnlyArchVitSwapsTheBackbone() throws {
        let fixtures = try sharedDir().appendingPathComponent("fixtures")
        let dir = try temporaryFolder(self)
        // a small head (the fixture's 64 tags and q2l file) so the models build quickly (Swin-L is
        // left out: building it in a debug test run takes about a minute)
        let yaml = """
            Arch:
              name: ram_plus
              vit: swin_b
              image_size: 224
              q2l_config: \(fixtures.appendingPathComponent("configs/q2l_config.json").path)
              tag_list: \(fixtures.appendingPathComponent("tags.txt").path)
            """
        let file = dir.appendingPathComponent("swap.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let r = try DefaultPlugins.registries()

        // expected per preset: image encoder width C (image_proj is Linear(C -> 512)), patch embedding
        let expected: [(vit: String, width: Int, patchKernel: [Int])] = [
            ("swin_b", 1024, [128, 3, 4, 4]),   // Swin-B: embed 128, 4x4 patches, width 128*8
            ("base", 768, [768, 3, 16, 16]),    // ViT-B/16
        ]
        var encoderKeys: [String: Set<String>] = [:]
        var headShapes: [String: [Int]]? = nil
        for e in expected {
            let cfg = try RunConfig.load(path: file.path, overrides: ["Arch.vit=\(e.vit)"])
            XCTAssertEqual(cfg.node(at: "Arch.vit"), .string(e.vit))
            let model = try cfg.buildNamed(r.arch, at: "Arch", registries: r)
            XCTAssertEqual(model.imageSize, 224)
            XCTAssertEqual(model.numTags, 64)
            let proj = parameterShapes(model, prefix: "image_proj.")
            XCTAssertEqual(proj["image_proj.weight"], [512, e.width], e.vit)
            let enc = parameterShapes(model, prefix: "visual_encoder.")
            XCTAssertEqual(enc["visual_encoder.patch_embed.proj.weight"], e.patchKernel, e.vit)
            encoderKeys[e.vit] = Set(enc.keys)
            // everything outside the image encoder and image_proj is the same head
            let head = parameterShapes(model, prefix: "").filter { !$0.key.hasPrefix("visual_encoder.") && !$0.key.hasPrefix("image_proj.") }
            if let previous = headShapes { XCTAssertEqual(head, previous, e.vit) }
            headShapes = head
            XCTAssertFalse(head.isEmpty)
        }
        // Swin has hierarchical stages, ViT a flat stack of blocks
        XCTAssertTrue(encoderKeys["swin_b"]?.contains { $0.hasPrefix("visual_encoder.layers.3.") } ?? false)
        XCTAssertTrue(encoderKeys["base"]?.contains { $0.hasPrefix("visual_encoder.blocks.11.") } ?? false)
        XCTAssertFalse(encoderKeys["base"]?.contains { $0.hasPrefix("visual_encoder.layers.") } ?? true)

        // a backbone name that does not exist: did you mean
        let bad = try RunConfig.load(path: file.path, overrides: ["Arch.vit=swin_L"])
        let e = errorText { _ = try bad.buildNamed(r.arch, at: "Arch", registries: r) }
        XCTAssertTrue(e.contains("unknown backbone 'swin_L'") && e.contains("swin_l"), e)
    }
}
