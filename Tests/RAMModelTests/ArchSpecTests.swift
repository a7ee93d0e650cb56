import Foundation
import RAMCheckpoint
import RAMCore
@testable import RAMModels
import XCTest

final class ArchSpecTests: XCTestCase {
    private func shipped(_ name: String) throws -> BertConfig {
        try BertConfig.load(RAMResources.url(for: "reference-configs/\(name)"))
    }

    /// The full-size architectures, counted from shapes (nothing allocated).
    func testFullSizeParameterCounts() throws {
        let q2l = try shipped("q2l_config.json"), med = try shipped("med_config.json")
        XCTAssertEqual(q2l.num_hidden_layers, 2); XCTAssertEqual(med.num_hidden_layers, 12)
        let swinL384 = try XCTUnwrap(VisionSpec.preset(vit: "swin_l", imageSize: 384))
        let swinB224 = try XCTUnwrap(VisionSpec.preset(vit: "swin_b", imageSize: 224))
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: "ram_plus", vision: swinL384, q2l: q2l, med: nil, numTags: 4585), 329_493_046)
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: "ram", vision: swinL384, q2l: q2l, med: med, numTags: 4585), 469_148_785)
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: "ram_plus", vision: swinB224, q2l: q2l, med: nil, numTags: 4585), 220_775_610)
        XCTAssertEqual(swinL384.outputDim, 1536)
    }

    /// The shipped Swin JSONs give the same specs as the presets.
    func testShippedSwinConfigsEqualPresets() throws {
        for (vit, file, size) in [("swin_l", "config_swinL_384.json", 384), ("swin_b", "config_swinB_224.json", 224),
                                  ("swin_l", "config_swinL_224.json", 224), ("swin_b", "config_swinB_384.json", 384)] {
            let url = try RAMResources.url(for: "reference-configs/swin/\(file)")
            let map = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            XCTAssertEqual(try VisionSpec.from(vit: vit, imageSize: size, overrides: map, source: file),
                           VisionSpec.preset(vit: vit, imageSize: size), file)
        }
    }

    /// For each fixture: the spec's names and shapes are exactly the checkpoint's (buffers
    /// aside), and the unique count is the manifest's parameter count.
    func testSpecMatchesFixtureCheckpoints() throws {
        let dir = try Fixtures.requireFixtures()
        let cfg = dir.appendingPathComponent("configs")
        let q2l = try BertConfig.load(cfg.appendingPathComponent("q2l_config.json"))
        let med = try BertConfig.load(cfg.appendingPathComponent("med_config.json"))
        let cases: [(String, String, String, Int, String)] = [
            ("ram_plus_swin_tiny_224", "ram_plus", "swin_b", 224, "swin/config_swinB_224.json"),
            ("ram_swin_tiny_384", "ram", "swin_b", 384, "swin/config_swinB_384.json"),
            ("ram_plus_vit_tiny_224", "ram_plus", "base", 224, "vit_tiny.json"),
        ]
        let manifest = try Fixtures.manifest().models
        for (name, arch, vit, size, vfile) in cases {
            let map = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: cfg.appendingPathComponent(vfile))) as? [String: Any])
            let vision = try VisionSpec.from(vit: vit, imageSize: size, overrides: map, source: vfile)
            let shapes = RAMArchSpec.parameterShapes(arch: arch, vision: vision, q2l: q2l, med: arch == "ram" ? med : nil, numTags: 64)
            let ckpt = try Checkpoint.open(dir.appendingPathComponent("\(name).pth"))
            let file = ckpt.shapes.filter { !RAMSanitizer.isDerivedBuffer($0.key) }
            var model: [String: [Int]] = [:]
            for (k, s) in shapes { model[k] = s }
            XCTAssertEqual(model.count, shapes.count, "\(name): duplicate names")
            XCTAssertNil(RAMSanitizer.mismatchReport(file: file, model: model), name)
            let count = RAMArchSpec.uniqueParameterCount(arch: arch, vision: vision, q2l: q2l, med: arch == "ram" ? med : nil, numTags: 64)
            XCTAssertEqual(count, manifest.first { $0.name == name }?.parameters, name)
        }
    }

    func testBertConfigFromPaddleYAMLAndErrors() throws {
        let url = Fixtures.shared.appendingPathComponent("compat/paddleclas/RAM_q2l.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) absent") }
        let c = try BertConfig.load(url)
        XCTAssertEqual(c.hidden_size, 768); XCTAssertEqual(c.num_attention_heads, 4)
        XCTAssertEqual(c.num_hidden_layers, 2); XCTAssertEqual(c.layer_norm_eps, 1e-12)
        XCTAssertEqual(c.vocab_size, 30524); XCTAssertTrue(c.add_cross_attention)
        XCTAssertThrowsError(try BertConfig(map: ["hidden_size": 100, "num_attention_heads": 3], source: "x")) { e in
            XCTAssertTrue("\(e)".contains("x.hidden_size"), "\(e)")
        }
        XCTAssertThrowsError(try BertConfig(map: ["hidden_act": "relu"], source: "x"))
        XCTAssertThrowsError(try VisionSpec.from(vit: "swin_x", imageSize: 384, overrides: [:], source: "v"))
        XCTAssertThrowsError(try VisionSpec.from(vit: "swin_l", imageSize: 384, overrides: ["image_res": 224], source: "v"))
    }
}
