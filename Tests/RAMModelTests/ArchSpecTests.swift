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

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    /// BERT sizes are bounded (QA: num_hidden_layers 1e9 built layers up to 18 GB,
    /// intermediate_size 1e12 ended in a fatal out-of-memory), and a huge or infinite number is
    /// an error, not a trap converting it to Int.
    func testBertConfigSizesAreBounded() {
        func bert(_ k: String, _ v: Any) -> String { message { try BertConfig(map: [k: v], source: "q2l.json") } }
        XCTAssertEqual(bert("num_hidden_layers", 1_000_000_000), "q2l.json.num_hidden_layers: 1000000000 is too large; at most 256 is accepted")
        XCTAssertEqual(bert("intermediate_size", 1e12), "q2l.json.intermediate_size: 1000000000000 is too large; at most 65536 is accepted")
        XCTAssertEqual(bert("hidden_size", 1 << 20), "q2l.json.hidden_size: 1048576 is too large; at most 65536 is accepted")
        XCTAssertEqual(bert("num_attention_heads", 2048), "q2l.json.num_attention_heads: 2048 is too large; at most 1024 is accepted")
        XCTAssertEqual(bert("vocab_size", 1 << 30), "q2l.json.vocab_size: 1073741824 is too large; at most 1048576 is accepted")
        XCTAssertEqual(bert("encoder_width", 100_000), "q2l.json.encoder_width: 100000 is too large; at most 65536 is accepted")
        XCTAssertEqual(bert("max_position_embeddings", 100_000), "q2l.json.max_position_embeddings: 100000 is too large; at most 65536 is accepted")
        XCTAssertEqual(bert("num_hidden_layers", 1e300), "q2l.json.num_hidden_layers: expected an integer, found 1e+300")
        XCTAssertEqual(bert("num_hidden_layers", Double.infinity), "q2l.json.num_hidden_layers: expected an integer, found inf")
        XCTAssertEqual(bert("layer_norm_eps", Double.infinity), "q2l.json.layer_norm_eps: must be a positive finite number, found inf")
        XCTAssertEqual(bert("num_hidden_layers", 256), "no error")
    }

    /// Vision specs: each zero size named in its own message (QA: window_size 0 or embed_dim 0
    /// said "depths ... and num_heads ... must be non-empty lists of the same length"), sizes
    /// bounded, layer_norm_eps checked, huge numbers refused without trapping.
    func testVisionSpecChecksEachValue() {
        func swin(_ o: [String: Any]) -> String { message { try VisionSpec.from(vit: "swin_b", imageSize: 224, overrides: o, source: "sw.json") } }
        func vit(_ o: [String: Any]) -> String { message { try VisionSpec.from(vit: "base", imageSize: 224, overrides: o, source: "vit.json") } }
        XCTAssertEqual(swin(["window_size": 0]), "sw.json: window_size must be positive, got 0")
        XCTAssertEqual(swin(["embed_dim": 0]), "sw.json: embed_dim must be positive, got 0")
        XCTAssertEqual(swin(["depths": [Int]()]), "sw.json.depths: must be a non-empty list of blocks per stage, found []")
        XCTAssertEqual(swin(["num_heads": [4, 8]]), "sw.json.num_heads: has 2 entries ([4, 8]) but depths has 4 ([2, 2, 18, 2]); give one head count per stage")
        XCTAssertEqual(swin(["num_heads": [4, 0, 16, 32]]), "sw.json: num_heads[1] must be positive, got 0")
        XCTAssertEqual(swin(["depths": [2, 2, 1000, 2]]), "sw.json: depths[2] is 1000; at most 256 is accepted")
        XCTAssertEqual(swin(["embed_dim": 1_099_511_627_776]), "sw.json: embed_dim is 1099511627776; at most 65536 is accepted")
        XCTAssertEqual(swin(["embed_dim": 1e300]), "sw.json.embed_dim: expected an integer, found 1e+300")
        XCTAssertEqual(swin(["layer_norm_eps": -1.0]), "sw.json: layer_norm_eps must be a positive finite number, got -1.0")
        XCTAssertEqual(swin(["mlp_ratio": 1e12]), "sw.json: mlp_ratio is 1000000000000.0; at most 64.0 is accepted")
        XCTAssertEqual(vit(["embed_dim": 1_048_576]), "vit.json: embed_dim is 1048576; at most 65536 is accepted")
        XCTAssertEqual(vit(["mlp_ratio": 1e12]), "vit.json: mlp_ratio is 1000000000000.0; at most 64.0 is accepted")
        XCTAssertEqual(vit(["mlp_ratio": Double.nan]), "vit.json: mlp_ratio must be a positive finite number, got nan")
        XCTAssertEqual(vit(["mlp_ratio": "big"]), "vit.json.mlp_ratio: expected a number, found big")
        XCTAssertEqual(vit(["layer_norm_eps": 0.0]), "vit.json: layer_norm_eps must be a positive finite number, got 0.0")
        XCTAssertEqual(vit(["patch_size": 0]), "vit.json: patch_size must be positive, got 0")
        XCTAssertEqual(vit(["depth": 1_000_000]), "vit.json: depth is 1000000; at most 256 is accepted")
        XCTAssertEqual(vit(["patch_size": 1]), "vit.json.patch_size: image size 224 / patch_size 1 gives 50176 patch tokens; at most 16384 are accepted")
        XCTAssertEqual(try VisionSpec.from(vit: "base", imageSize: 224, overrides: ["patch_size": 7, "embed_dim": 64, "num_heads": 2], source: "v"),
                       .vit(width: 64, depth: 12, heads: 2, patch: 7, mlpRatio: 4, imageSize: 224))
    }
}
